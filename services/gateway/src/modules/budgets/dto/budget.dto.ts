import { createZodDto } from 'nestjs-zod';
import { CreateBudgetSchema } from '@hangar/contracts';

export class CreateBudgetDto extends createZodDto(CreateBudgetSchema) {}
