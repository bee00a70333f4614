import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import type { AgentProfile } from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { CreateProfileDto, UpdateProfileDto } from './dto/profile.dto';

// The agent profile registry. Profiles are data only: the controller maps straight to the repository.
@Controller('api/v1/profiles')
export class ProfilesController {
  constructor(private readonly profiles: ProfileRepository) {}

  @Get()
  async list(): Promise<{ items: AgentProfile[] }> {
    return { items: await this.profiles.list() };
  }

  @Post()
  create(@Body() body: CreateProfileDto): Promise<AgentProfile> {
    return this.profiles.create(body);
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<AgentProfile> {
    return this.profiles.get(name);
  }

  @Patch(':name')
  update(@Param('name') name: string, @Body() body: UpdateProfileDto): Promise<AgentProfile> {
    return this.profiles.update(name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.profiles.delete(name);
  }
}
