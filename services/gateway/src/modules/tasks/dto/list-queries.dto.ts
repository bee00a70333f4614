import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { ListTasksQuerySchema } from '@hangar/contracts';

export class ListEventsQueryDto extends createZodDto(
  z.object({
    afterSeq: z.coerce.number().int().nonnegative().default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(1000),
  }),
) {}

export class ListTasksQueryDto extends createZodDto(ListTasksQuerySchema) {}
