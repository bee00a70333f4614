import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  HangarError,
  WebhookJobSchema,
  type CommandAction,
  type ConversationTurn,
  type WebhookJob,
} from '@hangar/contracts';
import { ApprovalRepository, WebhookDeliveryRepository, type DeliveryRecord } from '@hangar/db';
import { ApprovalDesk, approvalAuditDetails } from '@hangar/platform';
import { delayedJob, isDelayedJob, type Job, WEBHOOK_DELIVERY_QUEUE_SPEC } from '@hangar/redis';
import { AuditTrail } from '../../common/audit-trail';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { ConversationsService } from '../conversations/conversations.service';
import { WorkflowRunsService } from '../workflows/workflow-runs.service';
import { createProviderClient } from './clients/provider-client';
import { WebhookEgress } from './clients/provider-egress';
import { matchCommand, type CommandMatch } from './command-matcher';
import type { InboundEvent } from './inbound-event';
import { renderTemplate } from './prompt-template';
import { approvalAnswerText, authorRefusalText } from './reply-text';
import { adapterFor } from './providers/provider-adapters';
import { WebhookQueues } from './webhook-queues';
import { WebhookSources, type WebhookSource } from './webhook-sources';

// A follow-up on a thread whose previous turn still runs looks again this often.
const BUSY_RETRY_MS = 2000;

// Takes verified deliveries from the queue: match a command, then act — start (or continue) the
// thread's conversation, or comment, react, label. Each outcome is written on the delivery.
@Injectable()
export class DeliveryProcessor implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(
    private readonly queues: WebhookQueues,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly sources: WebhookSources,
    private readonly conversations: ConversationsService,
    private readonly workflowRuns: WorkflowRunsService,
    private readonly approvals: ApprovalRepository,
    private readonly desk: ApprovalDesk,
    private readonly audit: AuditTrail,
    private readonly egress: WebhookEgress,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap() {
    const worker = this.queues.work(WEBHOOK_DELIVERY_QUEUE_SPEC, (job, token) => this.process(job, token));
    worker.on('error', (error) => this.logger.error({ err: error }, 'webhook queue error'));
  }

  async process(job: Job<WebhookJob>, token?: string): Promise<string> {
    const { deliveryId } = WebhookJobSchema.parse(job.data);
    const delivery = await this.deliveries.find(deliveryId);
    if (!delivery || !['queued', 'waiting'].includes(delivery.status)) return 'already processed';
    try {
      return await this.handle(delivery, job, token);
    } catch (error) {
      if (isDelayedJob(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      // Our own refusals (a template, a profile, a repository) will not change on a retry.
      const final = error instanceof HangarError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!final) {
        this.logger.warn(`delivery ${deliveryId}: ${reason}; trying again`);
        throw error;
      }
      this.logger.warn(`delivery ${deliveryId} failed: ${reason}`);
      await this.deliveries.settle(deliveryId, { status: 'failed', reason });
      return 'failed';
    }
  }

  private async handle(delivery: DeliveryRecord, job: Job<WebhookJob>, token?: string): Promise<string> {
    const source = await this.sources.byId(delivery.source).catch(() => null);
    if (!source || !source.enabled) {
      await this.deliveries.settle(delivery.id, {
        status: 'failed',
        reason: 'its webhook configuration was deleted or turned off before it was processed',
      });
      return 'failed';
    }
    const event = adapterFor(source.provider).normalize(delivery.event ?? undefined, delivery.payload ?? {}, {
      prefix: source.prefix,
    });
    if (event.fromHangar) {
      await this.deliveries.settle(delivery.id, { status: 'ignored', reason: "Hangar's own reply" });
      return 'ignored';
    }
    const result = matchCommand(source.commands, event, delivery.deliveryId);
    if (!result.matched) {
      await this.deliveries.settle(delivery.id, { status: 'ignored', reason: result.reason });
      return 'ignored';
    }
    const { command } = result.matched;
    const refusal = authorRefusal(source, event);
    if (refusal) return this.refuseAuthor(delivery, source, event, refusal, job);
    const action = command.action;
    if (action.type === 'create_task')
      return this.startTurn(delivery, source, event, result.matched, action, job, token);
    if (action.type === 'start_workflow')
      return this.startWorkflow(delivery, source, event, result.matched, action);
    if (action.type === 'answer_approval')
      return this.answerApproval(delivery, source, event, result.matched, action);
    if (!event.ref)
      throw new HangarError('INVALID_COMMAND', `${event.event} has nothing to ${action.type} on`);
    const client = this.clientFor(source);
    if (action.type === 'comment')
      await client.reply(event.ref, renderTemplate(action.template, result.matched.variables));
    else if (action.type === 'react') await client.react(event.ref, action.reaction);
    else await client.label(event.ref, action.label);
    await this.deliveries.settle(delivery.id, {
      status: 'acted',
      command: command.name,
      reason: action.type,
    });
    return 'acted';
  }

  private clientFor(source: WebhookSource) {
    return createProviderClient({
      provider: source.provider,
      credentials: source.credentials,
      apiUrl: source.apiUrl,
      egress: this.egress,
    });
  }

  // Someone the receiver does not act for asked: nothing starts, the delivery says why, and so
  // does an answer on GitHub when they addressed Hangar (a command firing on every comment stays
  // silent). A failed answer is tried again like any provider call; the refusal stands either way.
  private async refuseAuthor(
    delivery: DeliveryRecord,
    source: WebhookSource,
    event: InboundEvent,
    refusal: { login: string | undefined; association: string; reason: string },
    job: Job<WebhookJob>,
  ): Promise<string> {
    let told = '';
    if (event.mention && event.ref) {
      try {
        const text = authorRefusalText(refusal.login, refusal.association, source.authorAssociations);
        await this.clientFor(source).reply(event.ref, text);
        told = '; told them on GitHub';
      } catch (error) {
        if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw error;
        told = `; the answer saying so failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    await this.deliveries.settle(delivery.id, { status: 'ignored', reason: `${refusal.reason}${told}` });
    return 'ignored';
  }

  // A task as a conversation turn: the thread's conversation when it has one (the agent resumes
  // its session), a new one otherwise.
  private async startTurn(
    delivery: DeliveryRecord,
    source: WebhookSource,
    event: InboundEvent,
    match: CommandMatch,
    action: Extract<CommandAction, { type: 'create_task' }>,
    job: Job<WebhookJob>,
    token?: string,
  ): Promise<string> {
    const prompt = renderTemplate(action.template, match.variables);
    const repository =
      action.repository === undefined ? undefined : renderTemplate(action.repository, match.variables);
    const options = {
      ...(action.scenario !== undefined ? { scenario: action.scenario } : {}),
      ...(action.timeoutSeconds !== undefined ? { timeoutSeconds: action.timeoutSeconds } : {}),
      ...(action.priority !== undefined ? { priority: action.priority } : {}),
    };
    const existing = event.threadKey
      ? await this.deliveries.threadConversation(source.id, event.threadKey)
      : null;
    let turn: ConversationTurn;
    let conversationId: string;
    if (existing) {
      conversationId = existing;
      try {
        turn = await this.conversations.post(source.projectId, existing, { content: prompt, ...options });
      } catch (error) {
        if (error instanceof HangarError && error.code === 'CONVERSATION_BUSY') {
          return this.waitForThread(delivery, match, job, token);
        }
        throw error;
      }
    } else {
      const created = await this.conversations.create(source.projectId, {
        message: prompt,
        ...(event.title ? { title: event.title.slice(0, 200) } : {}),
        ...(action.profile !== undefined ? { profile: action.profile } : {}),
        ...(repository !== undefined ? { repository } : {}),
        ...(action.ref !== undefined ? { ref: action.ref } : {}),
        ...options,
      });
      conversationId = created.conversation.id;
      turn = created.turn!;
      if (event.threadKey) {
        const bound = await this.deliveries.bindThread(source.id, event.threadKey, conversationId);
        if (bound !== conversationId)
          this.logger.warn(
            `thread ${event.threadKey} got two conversations at once; follow-ups go to ${bound}`,
          );
      }
    }
    if (event.ref && event.ref.kind !== 'sentry-issue') {
      await this.deliveries.owesReply({
        taskId: turn.task.id,
        deliveryId: delivery.id,
        source: source.id,
        target: event.ref,
      });
    }
    await this.audit.record({
      projectId: source.projectId,
      actor: { type: 'webhook', id: source.id, label: `${source.name} webhook` },
      action: 'task.create',
      target: { type: 'task', id: turn.task.id },
      details: { delivery: delivery.id, event: event.event, command: match.command.name, conversationId },
    });
    await this.deliveries.settle(delivery.id, {
      status: 'task_created',
      command: match.command.name,
      taskId: turn.task.id,
      conversationId,
      ...(existing ? { reason: 'continues the thread' } : {}),
    });
    return 'task_created';
  }

  // A run of the project's workflow, its inputs rendered from the payload. Nothing answers the
  // provider when it ends (yet); the delivery names the run.
  private async startWorkflow(
    delivery: DeliveryRecord,
    source: WebhookSource,
    event: InboundEvent,
    match: CommandMatch,
    action: Extract<CommandAction, { type: 'start_workflow' }>,
  ): Promise<string> {
    const inputs: Record<string, string> = {};
    for (const [name, template] of Object.entries(action.inputs)) {
      try {
        inputs[name] = renderTemplate(template, match.variables);
      } catch (error) {
        if (!(error instanceof HangarError)) throw error;
        throw new HangarError(error.code, `inputs.${name}: ${error.message}`, error.details);
      }
    }
    const run = await this.workflowRuns.startForWebhook(
      source.projectId,
      action.workflow,
      inputs,
      `webhook:${source.name}`,
    );
    await this.audit.record({
      projectId: source.projectId,
      actor: { type: 'webhook', id: source.id, label: `${source.name} webhook` },
      action: 'workflow.start_run',
      target: { type: 'workflow_run', id: run.id },
      details: {
        delivery: delivery.id,
        event: event.event,
        command: match.command.name,
        workflowId: run.workflowId,
        workflow: run.workflow,
        version: run.version,
      },
    });
    // webhook_deliveries has no column for a run: its id is in the reason.
    await this.deliveries.settle(delivery.id, {
      status: 'workflow_started',
      command: match.command.name,
      reason: `workflow run ${run.id} (${run.workflow} v${run.version})`,
    });
    return 'workflow_started';
  }

  // Someone in the thread answers a tool call of the thread's task that waits for approval:
  // `<prefix> approve|approve-all|deny [<approval id>] [why]`. Only the approvals of this thread's
  // tasks can be answered from it; the receiver vouches for its people as it does for a task.
  private async answerApproval(
    delivery: DeliveryRecord,
    source: WebhookSource,
    event: InboundEvent,
    match: CommandMatch,
    action: Extract<CommandAction, { type: 'answer_approval' }>,
  ): Promise<string> {
    const conversationId = event.threadKey
      ? await this.deliveries.threadConversation(source.id, event.threadKey)
      : null;
    const hangar = match.variables['hangar'] as { args: string };
    const [first = '', ...rest] = hangar.args.trim().split(/\s+/);
    const thread = conversationId
      ? await this.approvals.list({
          projectIds: [source.projectId],
          conversationId,
          status: 'all',
          limit: 200,
        })
      : [];
    const named = thread.find((approval) => approval.id === first);
    const pending = thread.filter((approval) => approval.status === 'PENDING');
    const approval = named ?? (pending.length === 1 ? pending[0] : undefined);
    const words = named ? rest : [first, ...rest].filter(Boolean);
    const message = words.join(' ').trim();
    let answer: string;
    if (!approval) {
      answer =
        pending.length === 0
          ? 'nothing of this thread waits for approval.'
          : `${pending.length} calls wait: name one (${pending.map((one) => `\`${one.id}\``).join(', ')}).`;
    } else {
      const who = event.author?.login ? `@${event.author.login}` : 'someone';
      const by = `${who} (${source.name} webhook)`;
      try {
        const answered = await this.desk.answerAs(
          approval,
          {
            decision: action.decision,
            ...(action.decision === 'deny' && message ? { message: message.slice(0, 2000) } : {}),
          },
          by,
        );
        await this.audit.record({
          projectId: source.projectId,
          actor: { type: 'webhook', id: source.id, label: `${source.name} webhook` },
          action: 'approval.answer',
          target: { type: 'approval', id: answered.id },
          details: {
            via: source.provider,
            delivery: delivery.id,
            by: who,
            ...approvalAuditDetails(answered),
          },
        });
        answer =
          answered.status === 'ALLOWED'
            ? `${answered.tool} allowed${answered.decision === 'allow-task' ? ' for the rest of the task' : ''} by ${who}.`
            : `${answered.tool} denied by ${who}${answered.message ? `: ${answered.message}` : ''}.`;
      } catch (error) {
        if (!(error instanceof HangarError)) throw error;
        answer = error.message;
      }
    }
    if (event.ref)
      await this.clientFor(source).reply(
        event.ref,
        approvalAnswerText(source.provider, approval?.taskId ?? 'of this thread', answer),
      );
    await this.deliveries.settle(delivery.id, {
      status: approval ? 'acted' : 'ignored',
      command: match.command.name,
      reason: `answer_approval: ${answer}`,
    });
    return approval ? 'acted' : 'ignored';
  }

  private async waitForThread(
    delivery: DeliveryRecord,
    match: CommandMatch,
    job: Job<WebhookJob>,
    token?: string,
  ): Promise<never> {
    const waitedMs = Date.now() - delivery.receivedAt.getTime();
    if (waitedMs > this.config.WEBHOOK_FOLLOWUP_WAIT_MINUTES * 60_000) {
      throw new HangarError(
        'CONVERSATION_BUSY',
        `the thread's previous turn still ran after ${this.config.WEBHOOK_FOLLOWUP_WAIT_MINUTES} minutes`,
      );
    }
    await this.deliveries.settle(delivery.id, {
      status: 'waiting',
      command: match.command.name,
      reason: "the thread's previous turn is still running",
    });
    await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
    throw delayedJob();
  }
}

// Why the receiver will not act for the author of what came, or undefined when it will.
function authorRefusal(
  source: WebhookSource,
  event: InboundEvent,
): { login: string | undefined; association: string; reason: string } | undefined {
  const author = event.author;
  if (source.provider !== 'github' || !author) return undefined;
  if ((source.authorAssociations as readonly string[]).includes(author.association)) return undefined;
  const who = author.login ? `@${author.login}` : 'the author';
  return {
    login: author.login,
    association: author.association,
    reason: `not acted on: ${who} is ${author.association} on the repository; this receiver acts for ${source.authorAssociations.join(', ')}`,
  };
}
