import { createZodDto } from 'nestjs-zod';
import { CreateConversationSchema, PostMessageSchema } from '@hangar/contracts';

export class CreateConversationDto extends createZodDto(CreateConversationSchema) {}
export class PostMessageDto extends createZodDto(PostMessageSchema) {}
