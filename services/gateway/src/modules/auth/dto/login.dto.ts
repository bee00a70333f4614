import { createZodDto } from 'nestjs-zod';
import { LoginSchema } from '@hangar/contracts';

export class LoginDto extends createZodDto(LoginSchema) {}
