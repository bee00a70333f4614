import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import {
  CreateAlertRuleSchema,
  CreateAlertSilenceSchema,
  CreateAlertTargetSchema,
  ProjectQuerySchema,
} from '@hangar/contracts';

export class CreateAlertRuleDto extends createZodDto(CreateAlertRuleSchema) {}
export class CreateAlertTargetDto extends createZodDto(CreateAlertTargetSchema) {}
export class CreateAlertSilenceDto extends createZodDto(CreateAlertSilenceSchema) {}
export class AnomalyQueryDto extends createZodDto(
  ProjectQuerySchema.extend({ task: z.string().trim().min(1).max(64).optional() }),
) {}
export class TargetQueryDto extends createZodDto(
  ProjectQuerySchema.extend({
    installation: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true'),
  }),
) {}
