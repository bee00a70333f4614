import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import {
  AgentProfileSchema,
  ConversationSchema,
  ConversationTurnSchema,
  MessageSchema,
  ProblemSchema,
  TaskDiffSchema,
  TaskEventSchema,
  TaskPageSchema,
  TaskSchema,
} from '@hangar/contracts';

// Response shapes for the OpenAPI document, from the same schemas the clients use.
export class TaskDto extends createZodDto(TaskSchema) {}
export class TaskPageDto extends createZodDto(TaskPageSchema) {}
export class TaskEventsDto extends createZodDto(z.object({ items: z.array(TaskEventSchema) })) {}
export class TaskDiffDto extends createZodDto(TaskDiffSchema) {}
export class ProfileDto extends createZodDto(AgentProfileSchema) {}
export class ProfileListDto extends createZodDto(z.object({ items: z.array(AgentProfileSchema) })) {}
export class ConversationDto extends createZodDto(ConversationSchema) {}
export class ConversationCreatedDto extends createZodDto(
  z.object({ conversation: ConversationSchema, turn: ConversationTurnSchema.nullable() }),
) {}
export class ConversationTurnDto extends createZodDto(ConversationTurnSchema) {}
export class MessageListDto extends createZodDto(z.object({ items: z.array(MessageSchema) })) {}
export class ProblemDto extends createZodDto(ProblemSchema) {}
