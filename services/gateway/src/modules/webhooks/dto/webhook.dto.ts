import { createZodDto } from 'nestjs-zod';
import { CreateWebhookSchema, ListDeliveriesQuerySchema, UpdateWebhookSchema } from '@hangar/contracts';

export class CreateWebhookDto extends createZodDto(CreateWebhookSchema) {}
export class UpdateWebhookDto extends createZodDto(UpdateWebhookSchema) {}
export class ListDeliveriesQueryDto extends createZodDto(ListDeliveriesQuerySchema) {}
