import { createZodDto } from 'nestjs-zod';
import { AnswerApprovalSchema, ListApprovalsQuerySchema } from '@hangar/contracts';

export class AnswerApprovalDto extends createZodDto(AnswerApprovalSchema) {}
export class ListApprovalsQueryDto extends createZodDto(ListApprovalsQuerySchema) {}
