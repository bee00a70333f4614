import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import {
  APPROVAL_ANSWER_ROLE,
  HangarError,
  type AnswerApprovalRequest,
  type Approval,
} from '@hangar/contracts';
import { ApprovalRepository, type StoredApproval } from '@hangar/db';
import { TaskLifecycle } from './task-lifecycle';

// A person answers a tool call that waits for approval (docs/governance.md): the one use case
// behind the REST API and Socket.IO. An operator (or admin) of the task's project may answer,
// once, before the deadline; the waiting agent reads the answer from the approval itself.
@Injectable()
export class ApprovalDesk {
  constructor(
    private readonly approvals: ApprovalRepository,
    private readonly lifecycle: TaskLifecycle,
  ) {}

  // Of a project the caller is in, or APPROVAL_NOT_FOUND (nothing is told of other projects).
  async visible(principal: Principal, id: string): Promise<StoredApproval> {
    const approval = await this.approvals.getVisible(id, principal.projectIds);
    if (!approval)
      throw new HangarError('APPROVAL_NOT_FOUND', `approval ${id} does not exist or is not yours`, {
        approvalId: id,
      });
    return approval;
  }

  async answer(principal: Principal, id: string, request: AnswerApprovalRequest): Promise<StoredApproval> {
    const approval = await this.visible(principal, id);
    principal.require(approval.projectId, APPROVAL_ANSWER_ROLE);
    return this.answerAs(approval, request, principal.actor.label);
  }

  // The answer of someone the caller vouches for: a webhook receiver acting for the people of
  // the thread the task came from (it checked who they are, as it does before starting a task).
  async answerAs(approval: Approval, request: AnswerApprovalRequest, by: string): Promise<StoredApproval> {
    const answered = await this.approvals.answer(approval.id, {
      decision: request.decision,
      message: request.message ?? null,
      by,
    });
    if (!answered) throw closedError((await this.approvals.get(approval.id)) ?? approval);
    await this.lifecycle.approvalClosed(answered);
    return answered;
  }
}

function closedError(approval: Approval): HangarError {
  const why =
    approval.status === 'PENDING'
      ? `its deadline (${approval.deadline}) has passed`
      : approval.status === 'EXPIRED'
        ? `it expired: ${approval.message ?? 'no answer came in time'}`
        : `it was answered already (${approval.decision} by ${approval.answeredBy ?? 'someone'})`;
  return new HangarError('APPROVAL_CLOSED', `approval ${approval.id} cannot be answered: ${why}`, {
    approvalId: approval.id,
    status: approval.status,
  });
}

// What the audit log keeps of an answer (REST and Socket.IO alike).
export function approvalAuditDetails(approval: StoredApproval): Record<string, unknown> {
  return {
    task: approval.taskId,
    tool: approval.tool,
    rule: approval.rule,
    decision: approval.decision,
    ...(approval.message ? { message: approval.message } : {}),
  };
}
