import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import {
  ApprovalDecisionSchema,
  ListProjectWorkflowRunsQuerySchema,
  ListWorkflowRunsQuerySchema,
  StartWorkflowRunSchema,
  WorkflowDefinitionSchema,
  WorkflowTemplateSchema,
} from '@hangar/contracts';

export class WorkflowDefinitionDto extends createZodDto(WorkflowDefinitionSchema) {}
export class StartWorkflowRunDto extends createZodDto(StartWorkflowRunSchema) {}
export class ApprovalDecisionDto extends createZodDto(ApprovalDecisionSchema) {}
export class ListWorkflowRunsQueryDto extends createZodDto(ListWorkflowRunsQuerySchema) {}
export class ListProjectWorkflowRunsQueryDto extends createZodDto(ListProjectWorkflowRunsQuerySchema) {}
export class WorkflowTemplateListDto extends createZodDto(
  z.object({ items: z.array(WorkflowTemplateSchema) }),
) {}
