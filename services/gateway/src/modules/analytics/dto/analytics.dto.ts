import { createZodDto } from 'nestjs-zod';
import { AnalyticsQuerySchema, AnalyticsSchema } from '@hangar/contracts';

export class AnalyticsQueryDto extends createZodDto(AnalyticsQuerySchema) {}
export class AnalyticsDto extends createZodDto(AnalyticsSchema) {}
