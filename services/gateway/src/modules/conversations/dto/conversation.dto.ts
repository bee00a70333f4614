import { createZodDto } from 'nestjs-zod';
import {
  CreateConversationSchema,
  ListConversationsQuerySchema,
  ListMessagesQuerySchema,
  PostMessageSchema,
} from '@hangar/contracts';

export class CreateConversationDto extends createZodDto(CreateConversationSchema) {}
export class PostMessageDto extends createZodDto(PostMessageSchema) {}
export class ListConversationsQueryDto extends createZodDto(ListConversationsQuerySchema) {}
export class ListMessagesQueryDto extends createZodDto(ListMessagesQuerySchema) {}
