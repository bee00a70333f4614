import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal } from '@hangar/auth';
import type {
  Workflow,
  WorkflowRun,
  WorkflowRunPage,
  WorkflowTemplate,
  WorkflowVersion,
} from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import {
  ProblemDto,
  ProjectQueryDto,
  WorkflowDto,
  WorkflowListDto,
  WorkflowRunDto,
  WorkflowRunPageDto,
  WorkflowValidityDto,
  WorkflowVersionListDto,
} from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import {
  ListWorkflowRunsQueryDto,
  StartWorkflowRunDto,
  WorkflowDefinitionDto,
  WorkflowTemplateListDto,
} from './dto/workflow.dto';
import { WorkflowRunsService } from './workflow-runs.service';
import { WorkflowTemplates } from './workflow-templates';
import { WorkflowsService } from './workflows.service';

// Workflow definitions of a project (`?project=` when the caller has several), and their runs.
@ApiTags('workflows')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/workflows')
export class WorkflowsController {
  constructor(
    private readonly workflows: WorkflowsService,
    private readonly runs: WorkflowRunsService,
    private readonly templates: WorkflowTemplates,
  ) {}

  @Get()
  @ApiOkResponse({ type: WorkflowListDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: Workflow[] }> {
    return { items: await this.workflows.list(principal, query.project) };
  }

  @Post()
  @Audited('workflow.create')
  @ApiCreatedResponse({ type: WorkflowDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: WorkflowDefinitionDto,
  ): Promise<Workflow> {
    return this.workflows.create(principal, query.project, body);
  }

  // The checks of create, nothing stored: 200 or the same 400.
  @Post('validate')
  @HttpCode(200)
  @Audited('workflow.validate')
  @ApiOkResponse({ type: WorkflowValidityDto })
  validate(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: WorkflowDefinitionDto,
  ): Promise<{ valid: true }> {
    return this.workflows.validate(principal, query.project, body);
  }

  // Before `:id`, which would take "templates" for an id.
  @Get('templates')
  @ApiOkResponse({ type: WorkflowTemplateListDto })
  listTemplates(): { items: WorkflowTemplate[] } {
    return { items: this.templates.list() };
  }

  @Get(':id')
  @ApiOkResponse({ type: WorkflowDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Workflow> {
    return this.workflows.get(principal, id);
  }

  // A new version of the definition (same name).
  @Put(':id')
  @Audited('workflow.update')
  @ApiOkResponse({ type: WorkflowDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: WorkflowDefinitionDto,
  ): Promise<Workflow> {
    return this.workflows.update(principal, id, body);
  }

  @Get(':id/versions')
  @ApiOkResponse({ type: WorkflowVersionListDto })
  async versions(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<{ items: WorkflowVersion[] }> {
    return { items: await this.workflows.versions(principal, id) };
  }

  @Delete(':id')
  @HttpCode(204)
  @Audited('workflow.archive')
  @ApiNoContentResponse()
  archive(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.workflows.archive(principal, id);
  }

  // Runs the newest version unless the body names one.
  @Post(':id/runs')
  @Audited('workflow.start_run')
  @ApiCreatedResponse({ type: WorkflowRunDto })
  start(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: StartWorkflowRunDto,
  ): Promise<WorkflowRun> {
    return this.runs.start(principal, id, body);
  }

  @Get(':id/runs')
  @ApiOkResponse({ type: WorkflowRunPageDto })
  listRuns(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: ListWorkflowRunsQueryDto,
  ): Promise<WorkflowRunPage> {
    return this.runs.listOf(principal, id, query);
  }
}
