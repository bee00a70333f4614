import { createZodDto } from 'nestjs-zod';
import {
  CreateProjectSchema,
  GitHostListSchema,
  SetGitHostsSchema,
  SetMemberSchema,
  UpdateProjectSchema,
} from '@hangar/contracts';

export class CreateProjectDto extends createZodDto(CreateProjectSchema) {}
export class UpdateProjectDto extends createZodDto(UpdateProjectSchema) {}
export class SetMemberDto extends createZodDto(SetMemberSchema) {}
export class SetGitHostsDto extends createZodDto(SetGitHostsSchema) {}
export class GitHostListDto extends createZodDto(GitHostListSchema) {}
