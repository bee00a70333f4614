import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { Approval, ApprovalList } from '@hangar/contracts';
import { ApprovalRepository, TaskRepository, type StoredApproval } from '@hangar/db';
import { ApprovalDesk, approvalAuditDetails } from '@hangar/platform';
import { AuditTrail } from '../../common/audit-trail';
import { Audited } from '../../common/audited.decorator';
import { ApprovalDto, ApprovalListDto, ProblemDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { AnswerApprovalDto, ListApprovalsQueryDto } from './approval.dto';

// Tool calls of agents that wait for a person (docs/governance.md): every member sees those of
// their projects; operators and admins answer them, once, before the deadline.
@ApiTags('approvals')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/approvals')
export class ApprovalsController {
  constructor(
    private readonly desk: ApprovalDesk,
    private readonly approvals: ApprovalRepository,
    private readonly tasks: TaskRepository,
    private readonly audit: AuditTrail,
  ) {}

  // Pending ones by default (soonest deadline first); `?task=` one task's, `?status=all` every one.
  @Get()
  @ApiOkResponse({ type: ApprovalListDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListApprovalsQueryDto,
  ): Promise<ApprovalList> {
    const projectIds = principal.visibleIds(query.project);
    if (query.task) await this.tasks.getVisible(query.task, projectIds);
    const items = await this.approvals.list({
      projectIds,
      status: query.status,
      limit: query.limit,
      ...(query.task ? { taskId: query.task } : {}),
    });
    return { items: items.map(view) };
  }

  @Get(':id')
  @ApiOkResponse({ type: ApprovalDto })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Approval> {
    return view(await this.desk.visible(principal, id));
  }

  // allow-once, allow-task (this pattern for the rest of the task) or deny (with a message for
  // the agent). 409 once answered or past its deadline; 403 for a viewer.
  @Post(':id/answer')
  @HttpCode(200)
  @Audited('approval.answer')
  @ApiOkResponse({ type: ApprovalDto })
  async answer(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: AnswerApprovalDto,
  ): Promise<Approval> {
    const answered = await this.desk.answer(principal, id, body);
    this.audit.touched({
      projectId: answered.projectId,
      target: { type: 'approval', id },
      details: approvalAuditDetails(answered),
    });
    return view(answered);
  }
}

function view({ projectId: _projectId, ...approval }: StoredApproval): Approval {
  return approval;
}
