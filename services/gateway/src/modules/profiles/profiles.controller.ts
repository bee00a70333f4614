import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { AgentProfileView } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { ProblemDto, ProfileDto, ProfileListDto, ProjectQueryDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { CreateProfileDto, UpdateProfileDto } from './dto/profile.dto';
import { ProfilesService } from './profiles.service';

// The agent profile registry of a project (`?project=` when the caller has several).
@ApiTags('profiles')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/profiles')
export class ProfilesController {
  constructor(private readonly profiles: ProfilesService) {}

  @Get()
  @ApiOkResponse({ type: ProfileListDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: AgentProfileView[] }> {
    return { items: await this.profiles.list(principal, query.project) };
  }

  @Post()
  @Audited('profile.create')
  @ApiCreatedResponse({ type: ProfileDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateProfileDto,
  ): Promise<AgentProfileView> {
    return this.profiles.create(principal, query.project, body);
  }

  @Get(':name')
  @ApiOkResponse({ type: ProfileDto })
  get(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Param('name') name: string,
  ): Promise<AgentProfileView> {
    return this.profiles.get(principal, query.project, name);
  }

  @Patch(':name')
  @Audited('profile.update')
  @ApiOkResponse({ type: ProfileDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Param('name') name: string,
    @Body() body: UpdateProfileDto,
  ): Promise<AgentProfileView> {
    return this.profiles.update(principal, query.project, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @Audited('profile.delete')
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Param('name') name: string,
  ): Promise<void> {
    await this.profiles.delete(principal, query.project, name);
  }
}
