import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { matchApprovalRule } from '@hangar/agents';
import type {
  AgentProfile,
  PermissionPromptAnswer,
  PermissionPromptInput,
  WebhookReplyJob,
} from '@hangar/contracts';
import {
  ApprovalRepository,
  AttemptTokenRepository,
  AuditRepository,
  ProfileRepository,
  type AttemptGrant,
  type StoredApproval,
} from '@hangar/db';
import { NotificationHook, TaskLifecycle } from '@hangar/platform';
import { Queues, WEBHOOK_REPLY_QUEUE_SPEC, type QueueProducer } from '@hangar/redis';
import { SANDBOX_WORKSPACE } from '@hangar/sandbox';

// How often a waiting call looks for its answer (in PostgreSQL, which every runner and the
// gateway reach), and how often it tells the CLI it is still waiting: Claude Code's HTTP client
// gives up on a request after 300 s without a byte, so a wait sends MCP progress notifications.
const POLL_MS = 250;
const PROGRESS_EVERY_MS = 20_000;

// What Claude Code's permission prompt tool answers for an attempt (docs/governance.md). The
// CLI asks it for every tool call it would prompt a person for: a call one of the profile's
// approval patterns matches waits for an operator's answer (or the deadline, which denies);
// any other is denied at once, as the CLI denies it headless without the tool.
@Injectable()
export class ApprovalGate {
  private readonly logger = new Logger(ApprovalGate.name);
  // Calls waiting in this process, by approval: a call the CLI asks again joins its wait.
  private readonly waits = new Map<string, Promise<StoredApproval>>();
  private readonly replies: QueueProducer<WebhookReplyJob>;
  // Told when an attempt's wait ends, with all it has waited so far (the kubernetes executor
  // pushes the Job's deadline back by as much).
  private readonly waitedListeners: ((grant: AttemptGrant, waitedMs: number) => Promise<void>)[] = [];

  constructor(
    private readonly approvals: ApprovalRepository,
    private readonly profiles: ProfileRepository,
    private readonly tokens: AttemptTokenRepository,
    private readonly audit: AuditRepository,
    private readonly lifecycle: TaskLifecycle,
    private readonly hook: NotificationHook,
    queues: Queues,
  ) {
    this.replies = queues.producer(WEBHOOK_REPLY_QUEUE_SPEC);
  }

  onWaited(listener: (grant: AttemptGrant, waitedMs: number) => Promise<void>): void {
    this.waitedListeners.push(listener);
  }

  async decide(
    grant: AttemptGrant,
    profile: AgentProfile,
    call: PermissionPromptInput & { toolUseId?: string },
    options: { signal: AbortSignal; progress: (waitedMs: number) => Promise<void> },
  ): Promise<PermissionPromptAnswer> {
    const rule = matchApprovalRule(profile.approvals.tools, { tool: call.tool_name, input: call.input }, [
      SANDBOX_WORKSPACE,
      ...(grant.task.workspace ? [grant.task.workspace] : []),
    ]);
    if (!rule)
      return {
        behavior: 'deny',
        message:
          `${call.tool_name} is not allowed for this task (profile "${profile.name}"): it is not among the ` +
          "profile's allowed tools, and no person is asked for it. Do without it.",
      };
    const standing = await this.approvals.allowedForTask(grant.taskId, rule);
    if (standing) return { behavior: 'allow', updatedInput: call.input };

    const { approval, created } = await this.approvals.ask({
      taskId: grant.taskId,
      projectId: grant.task.projectId,
      attempt: grant.attempt,
      tool: call.tool_name,
      input: call.input,
      toolUseId: call.tool_use_id ?? call.toolUseId ?? randomUUID(),
      rule,
      deadline: new Date(Date.now() + profile.approvals.timeoutSeconds * 1000),
    });
    if (created) {
      this.logger.log(`task ${grant.taskId}: ${call.tool_name} waits for approval ${approval.id} (${rule})`);
      await this.lifecycle.approvalAsked(grant.task, approval);
      this.hook.send({
        kind: 'approval.requested',
        at: approval.createdAt,
        approval: {
          id: approval.id,
          tool: approval.tool,
          rule: approval.rule,
          input: approval.input,
          deadline: approval.deadline,
        },
        task: { id: grant.taskId, project: approval.project, profile: approval.profile },
      });
      // A task from a webhook's thread (a conversation turn) is asked about there too: the
      // gateway's reply worker posts it when the thread is owed an answer.
      if (grant.task.conversationId)
        await this.replies.add(
          'approval',
          { taskId: grant.taskId, approvalId: approval.id },
          { jobId: `approval-${approval.id}` },
        );
    }
    let wait = this.waits.get(approval.id);
    if (!wait) {
      wait = this.waitFor(approval, profile, grant).finally(() => this.waits.delete(approval.id));
      this.waits.set(approval.id, wait);
    }
    const closed = await untilAborted(wait, options, Date.parse(approval.createdAt));
    if (!closed)
      return {
        behavior: 'deny',
        message: 'the request for approval was abandoned; ask again if still needed',
      };
    if (closed.status === 'ALLOWED') return { behavior: 'allow', updatedInput: call.input };
    return { behavior: 'deny', message: denialText(closed) };
  }

  // Until the approval is answered, or expired at its deadline (by this call: the event and
  // the task's waiting go with it). The attempt's credential then lives as long again as it
  // waited, like its timeout.
  private async waitFor(
    approval: StoredApproval,
    profile: AgentProfile,
    grant: AttemptGrant,
  ): Promise<StoredApproval> {
    const deadline = Date.parse(approval.deadline);
    for (;;) {
      const now = await this.approvals.get(approval.id);
      if (!now) throw new Error(`approval ${approval.id} is gone`);
      if (now.status !== 'PENDING') return this.closed(now, grant);
      if (Date.now() >= deadline) {
        const expired = await this.approvals.expire(
          approval.id,
          `no answer within ${profile.approvals.timeoutSeconds}s: denied`,
        );
        if (expired) {
          await this.lifecycle.approvalClosed(expired);
          await this.audit.record({
            projectId: expired.projectId,
            actor: { type: 'system', id: null, label: 'agent-runner' },
            action: 'approval.expire',
            target: { type: 'approval', id: expired.id },
            details: {
              task: expired.taskId,
              tool: expired.tool,
              rule: expired.rule,
              message: expired.message,
            },
          });
          return this.closed(expired, grant);
        }
        continue; // answered just now
      }
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    }
  }

  private async closed(approval: StoredApproval, grant: AttemptGrant): Promise<StoredApproval> {
    const waited =
      Date.parse(approval.answeredAt ?? new Date().toISOString()) - Date.parse(approval.createdAt);
    await this.tokens.extend(grant.taskId, grant.attempt, waited);
    if (this.waitedListeners.length > 0) {
      const total = await this.approvals.waitedMs(grant.taskId, grant.attempt);
      for (const listener of this.waitedListeners)
        await listener(grant, total).catch((error: unknown) =>
          this.logger.error({ err: error }, `task ${grant.taskId}: its wait could not be accounted for`),
        );
    }
    return approval;
  }
}

// The wait, with progress told every PROGRESS_EVERY_MS; null if the CLI went away first.
async function untilAborted(
  wait: Promise<StoredApproval>,
  options: { signal: AbortSignal; progress: (waitedMs: number) => Promise<void> },
  since: number,
): Promise<StoredApproval | null> {
  const aborted = new Promise<null>((resolve) => {
    if (options.signal.aborted) resolve(null);
    options.signal.addEventListener('abort', () => resolve(null), { once: true });
  });
  const timer = setInterval(() => {
    void options.progress(Date.now() - since).catch(() => undefined);
  }, PROGRESS_EVERY_MS);
  try {
    return await Promise.race([wait, aborted]);
  } finally {
    clearInterval(timer);
  }
}

function denialText(approval: StoredApproval): string {
  if (approval.status === 'EXPIRED')
    return `Nobody approved this ${approval.tool} call (${approval.message ?? 'no answer'}). Do without it.`;
  return `A person denied this ${approval.tool} call${approval.answeredBy ? ` (${approval.answeredBy})` : ''}: ${
    approval.message ?? 'no reason given'
  }`;
}
