import { createZodDto } from 'nestjs-zod';
import { CreateApiTokenSchema } from '@hangar/contracts';

export class CreateApiTokenDto extends createZodDto(CreateApiTokenSchema) {}
