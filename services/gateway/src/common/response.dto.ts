import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import {
  AgentProfileViewSchema,
  ApiTokenSchema,
  AuditPageSchema,
  CreatedWebhookSchema,
  DeliveryPageSchema,
  WebhookDeliverySchema,
  WebhookSchema,
  ConversationPageSchema,
  CreatedApiTokenSchema,
  MemberSchema,
  MeSchema,
  ProjectQuerySchema,
  ProjectSchema,
  UserSchema,
  ConversationSchema,
  ConversationTurnSchema,
  MessagePageSchema,
  ProblemSchema,
  TaskDiffSchema,
  ScenarioListSchema,
  TaskEventPageSchema,
  TaskPageSchema,
  TaskSchema,
  TaskTreeNodeSchema,
  ModelUsageSchema,
  ApprovalSchema,
  ApprovalListSchema,
  BudgetSchema,
  BudgetListSchema,
  AlertRuleSchema,
  AlertRuleListSchema,
  AlertTargetSchema,
  AlertTargetListSchema,
  AlertSilenceSchema,
  AlertSilenceListSchema,
  AlertFiringListSchema,
  AnomalyListSchema,
  WorkflowRunPageSchema,
  WorkflowRunSchema,
  WorkflowSchema,
  WorkflowVersionSchema,
} from '@hangar/contracts';

// Response shapes for the OpenAPI document, from the same schemas the clients use.
export class TaskDto extends createZodDto(TaskSchema) {}
export class TaskPageDto extends createZodDto(TaskPageSchema) {}
export class TaskEventPageDto extends createZodDto(TaskEventPageSchema) {}
export class TaskDiffDto extends createZodDto(TaskDiffSchema) {}
export class TaskTreeDto extends createZodDto(TaskTreeNodeSchema) {}
export class ModelUsageDto extends createZodDto(ModelUsageSchema) {}
export class ApprovalDto extends createZodDto(ApprovalSchema) {}
export class ApprovalListDto extends createZodDto(ApprovalListSchema) {}
export class BudgetDto extends createZodDto(BudgetSchema) {}
export class BudgetListDto extends createZodDto(BudgetListSchema) {}
export class AlertRuleDto extends createZodDto(AlertRuleSchema) {}
export class AlertRuleListDto extends createZodDto(AlertRuleListSchema) {}
export class AlertTargetDto extends createZodDto(AlertTargetSchema) {}
export class AlertTargetListDto extends createZodDto(AlertTargetListSchema) {}
export class AlertSilenceDto extends createZodDto(AlertSilenceSchema) {}
export class AlertSilenceListDto extends createZodDto(AlertSilenceListSchema) {}
export class AlertFiringListDto extends createZodDto(AlertFiringListSchema) {}
export class AnomalyListDto extends createZodDto(AnomalyListSchema) {}
export class ScenarioListDto extends createZodDto(ScenarioListSchema) {}
export class ProfileDto extends createZodDto(AgentProfileViewSchema) {}
export class ProfileListDto extends createZodDto(z.object({ items: z.array(AgentProfileViewSchema) })) {}
export class ConversationDto extends createZodDto(ConversationSchema) {}
export class ConversationCreatedDto extends createZodDto(
  z.object({ conversation: ConversationSchema, turn: ConversationTurnSchema.nullable() }),
) {}
export class ConversationTurnDto extends createZodDto(ConversationTurnSchema) {}
export class MessagePageDto extends createZodDto(MessagePageSchema) {}
export class ProblemDto extends createZodDto(ProblemSchema) {}
export class ConversationPageDto extends createZodDto(ConversationPageSchema) {}
export class MeDto extends createZodDto(MeSchema) {}
export class ProjectDto extends createZodDto(ProjectSchema) {}
export class ProjectListDto extends createZodDto(z.object({ items: z.array(ProjectSchema) })) {}
export class UserDto extends createZodDto(UserSchema) {}
export class UserListDto extends createZodDto(z.object({ items: z.array(UserSchema) })) {}
export class MemberDto extends createZodDto(MemberSchema) {}
export class MemberListDto extends createZodDto(z.object({ items: z.array(MemberSchema) })) {}
export class ApiTokenDto extends createZodDto(ApiTokenSchema) {}
export class ApiTokenListDto extends createZodDto(z.object({ items: z.array(ApiTokenSchema) })) {}
export class CreatedApiTokenDto extends createZodDto(CreatedApiTokenSchema) {}
export class AuditPageDto extends createZodDto(AuditPageSchema) {}

// `?project=<slug>` on routes that act in one project.
export class ProjectQueryDto extends createZodDto(ProjectQuerySchema) {}
export class WebhookDto extends createZodDto(WebhookSchema) {}
export class WebhookListDto extends createZodDto(z.object({ items: z.array(WebhookSchema) })) {}
export class CreatedWebhookDto extends createZodDto(CreatedWebhookSchema) {}
export class WebhookDeliveryDto extends createZodDto(WebhookDeliverySchema) {}
export class DeliveryPageDto extends createZodDto(DeliveryPageSchema) {}
export class WorkflowDto extends createZodDto(WorkflowSchema) {}
export class WorkflowListDto extends createZodDto(z.object({ items: z.array(WorkflowSchema) })) {}
export class WorkflowVersionListDto extends createZodDto(
  z.object({ items: z.array(WorkflowVersionSchema) }),
) {}
export class WorkflowValidityDto extends createZodDto(z.object({ valid: z.literal(true) })) {}
export class WorkflowRunDto extends createZodDto(WorkflowRunSchema) {}
export class WorkflowRunPageDto extends createZodDto(WorkflowRunPageSchema) {}
