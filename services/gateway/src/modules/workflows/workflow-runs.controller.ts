import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@hangar/auth';
import type { WorkflowRun, WorkflowRunPage } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { ProblemDto, WorkflowRunDto, WorkflowRunPageDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { ApprovalDecisionDto, ListProjectWorkflowRunsQueryDto } from './dto/workflow.dto';
import { WorkflowRunsService } from './workflow-runs.service';

// Runs of every workflow the caller can see. Cancel and decisions are handed to the engine:
// 202 with the run as it is now; its change follows.
@ApiTags('workflows')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/workflow-runs')
export class WorkflowRunsController {
  constructor(private readonly runs: WorkflowRunsService) {}

  @Get()
  @ApiOkResponse({ type: WorkflowRunPageDto })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListProjectWorkflowRunsQueryDto,
  ): Promise<WorkflowRunPage> {
    return this.runs.list(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: WorkflowRunDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WorkflowRun> {
    return this.runs.get(principal, id);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @Audited('workflow.cancel_run')
  @ApiAcceptedResponse({ type: WorkflowRunDto })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WorkflowRun> {
    return this.runs.cancel(principal, id);
  }

  @Post(':id/steps/:key/approve')
  @HttpCode(202)
  @Audited('workflow.approve_step')
  @ApiAcceptedResponse({ type: WorkflowRunDto })
  approve(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('key') key: string,
    @Body() body: ApprovalDecisionDto,
  ): Promise<WorkflowRun> {
    return this.runs.decide(principal, id, key, true, body);
  }

  @Post(':id/steps/:key/reject')
  @HttpCode(202)
  @Audited('workflow.reject_step')
  @ApiAcceptedResponse({ type: WorkflowRunDto })
  reject(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('key') key: string,
    @Body() body: ApprovalDecisionDto,
  ): Promise<WorkflowRun> {
    return this.runs.decide(principal, id, key, false, body);
  }
}
