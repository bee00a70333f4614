import { createZodDto } from 'nestjs-zod';
import { CreateConversationSchema, ListConversationsQuerySchema, PostMessageSchema } from '@hangar/contracts';

export class CreateConversationDto extends createZodDto(CreateConversationSchema) {}
export class PostMessageDto extends createZodDto(PostMessageSchema) {}
export class ListConversationsQueryDto extends createZodDto(ListConversationsQuerySchema) {}
