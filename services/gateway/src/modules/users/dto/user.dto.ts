import { createZodDto } from 'nestjs-zod';
import { CreateUserSchema, UpdateUserSchema } from '@hangar/contracts';

export class CreateUserDto extends createZodDto(CreateUserSchema) {}
export class UpdateUserDto extends createZodDto(UpdateUserSchema) {}
