import { createZodDto } from 'nestjs-zod';
import { CreateProjectSchema, SetMemberSchema, UpdateProjectSchema } from '@hangar/contracts';

export class CreateProjectDto extends createZodDto(CreateProjectSchema) {}
export class UpdateProjectDto extends createZodDto(UpdateProjectSchema) {}
export class SetMemberDto extends createZodDto(SetMemberSchema) {}
