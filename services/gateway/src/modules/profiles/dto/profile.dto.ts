import { createZodDto } from 'nestjs-zod';
import { CreateProfileSchema, UpdateProfileSchema } from '@hangar/contracts';

export class CreateProfileDto extends createZodDto(CreateProfileSchema) {}
export class UpdateProfileDto extends createZodDto(UpdateProfileSchema) {}
