import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@hangar/auth';
import type { GitHostList, Member, Project } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { MemberDto, MemberListDto, ProblemDto, ProjectDto, ProjectListDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import {
  CreateProjectDto,
  GitHostListDto,
  SetGitHostsDto,
  SetMemberDto,
  UpdateProjectDto,
} from './dto/project.dto';
import { ProjectsService } from './projects.service';

@ApiTags('projects')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @ApiOkResponse({ type: ProjectListDto })
  list(@CurrentPrincipal() principal: Principal): { items: Project[] } {
    return { items: this.projects.list(principal) };
  }

  @Post()
  @Audited('project.create')
  @ApiCreatedResponse({ type: ProjectDto })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateProjectDto): Promise<Project> {
    return this.projects.create(principal, body);
  }

  @Get(':slug')
  @ApiOkResponse({ type: ProjectDto })
  get(@CurrentPrincipal() principal: Principal, @Param('slug') slug: string): Project {
    return this.projects.get(principal, slug);
  }

  @Patch(':slug')
  @Audited('project.update')
  @ApiOkResponse({ type: ProjectDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('slug') slug: string,
    @Body() body: UpdateProjectDto,
  ): Promise<Project> {
    return this.projects.update(principal, slug, body);
  }

  @Get(':slug/git-hosts')
  @ApiOkResponse({ type: GitHostListDto })
  gitHosts(@CurrentPrincipal() principal: Principal, @Param('slug') slug: string): Promise<GitHostList> {
    return this.projects.gitHosts(principal, slug);
  }

  @Put(':slug/git-hosts')
  @Audited('project.set_git_hosts')
  @ApiOkResponse({ type: GitHostListDto })
  setGitHosts(
    @CurrentPrincipal() principal: Principal,
    @Param('slug') slug: string,
    @Body() body: SetGitHostsDto,
  ): Promise<GitHostList> {
    return this.projects.setGitHosts(principal, slug, body);
  }

  @Get(':slug/members')
  @ApiOkResponse({ type: MemberListDto })
  async members(
    @CurrentPrincipal() principal: Principal,
    @Param('slug') slug: string,
  ): Promise<{ items: Member[] }> {
    return { items: await this.projects.members(principal, slug) };
  }

  @Put(':slug/members/:userId')
  @Audited('member.set')
  @ApiOkResponse({ type: MemberDto })
  setMember(
    @CurrentPrincipal() principal: Principal,
    @Param('slug') slug: string,
    @Param('userId') userId: string,
    @Body() body: SetMemberDto,
  ): Promise<Member> {
    return this.projects.setMember(principal, slug, userId, body.role);
  }

  @Delete(':slug/members/:userId')
  @HttpCode(204)
  @Audited('member.remove')
  removeMember(
    @CurrentPrincipal() principal: Principal,
    @Param('slug') slug: string,
    @Param('userId') userId: string,
  ): Promise<void> {
    return this.projects.removeMember(principal, slug, userId);
  }
}
