import { createZodDto } from 'nestjs-zod';
import { RunnersOverviewSchema } from '@hangar/contracts';

export class RunnersOverviewDto extends createZodDto(RunnersOverviewSchema) {}
