import { createZodDto } from 'nestjs-zod';
import { CreateTaskSchema } from '@hangar/contracts';

export class CreateTaskDto extends createZodDto(CreateTaskSchema) {}
