import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ProblemDto, ProfileDto, ProfileListDto } from '../../common/response.dto';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import type { AgentProfile } from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { CreateProfileDto, UpdateProfileDto } from './dto/profile.dto';

// The agent profile registry. Profiles are data only: the controller maps straight to the repository.
@ApiTags('profiles')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/profiles')
export class ProfilesController {
  constructor(private readonly profiles: ProfileRepository) {}

  @Get()
  @ApiOkResponse({ type: ProfileListDto })
  async list(): Promise<{ items: AgentProfile[] }> {
    return { items: await this.profiles.list() };
  }

  @Post()
  @ApiCreatedResponse({ type: ProfileDto })
  create(@Body() body: CreateProfileDto): Promise<AgentProfile> {
    return this.profiles.create(body);
  }

  @Get(':name')
  @ApiOkResponse({ type: ProfileDto })
  get(@Param('name') name: string): Promise<AgentProfile> {
    return this.profiles.get(name);
  }

  @Patch(':name')
  @ApiOkResponse({ type: ProfileDto })
  update(@Param('name') name: string, @Body() body: UpdateProfileDto): Promise<AgentProfile> {
    return this.profiles.update(name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.profiles.delete(name);
  }
}
