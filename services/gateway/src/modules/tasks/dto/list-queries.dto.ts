import { createZodDto } from 'nestjs-zod';
import { ListTaskEventsQuerySchema, ListTasksQuerySchema } from '@hangar/contracts';

export class ListEventsQueryDto extends createZodDto(ListTaskEventsQuerySchema) {}

export class ListTasksQueryDto extends createZodDto(ListTasksQuerySchema) {}
