import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { WebhookReplyJobSchema, type WebhookReplyJob } from '@hangar/contracts';
import { ApprovalRepository, TaskRepository, WebhookDeliveryRepository } from '@hangar/db';
import { type Job, WEBHOOK_REPLY_QUEUE_SPEC } from '@hangar/redis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { createProviderClient } from './clients/provider-client';
import { WebhookEgress } from './clients/provider-egress';
import { approvalRequestText, replyText } from './reply-text';
import { REPLY_ATTEMPTS, WebhookQueues } from './webhook-queues';
import { WebhookSources } from './webhook-sources';

// Answers a webhook-started task where it came from once it has finished. The debt is a row
// (webhook_replies) written with the task, so a gateway restart loses nothing: a sweep finds
// finished tasks still owed an answer and queues them; the queue retries a failing provider.
@Injectable()
export class ReplyDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReplyDispatcher.name);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly queues: WebhookQueues,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly tasks: TaskRepository,
    private readonly approvals: ApprovalRepository,
    private readonly sources: WebhookSources,
    private readonly egress: WebhookEgress,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap() {
    const worker = this.queues.work(WEBHOOK_REPLY_QUEUE_SPEC, (job) => this.send(job));
    worker.on('error', (error) => this.logger.error({ err: error }, 'reply queue error'));
    this.schedule(0);
  }

  onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweep()
        .catch((error: unknown) => this.logger.warn(`reply sweep failed: ${String(error)}`))
        .finally(() => this.schedule(this.config.WEBHOOK_REPLY_INTERVAL_MS));
    }, delayMs).unref();
  }

  private async sweep() {
    for (const taskId of await this.deliveries.dueReplies()) await this.queues.enqueueReply(taskId);
  }

  async send(job: Job<WebhookReplyJob>): Promise<string> {
    const { taskId, approvalId } = WebhookReplyJobSchema.parse(job.data);
    if (approvalId) return this.announceApproval(taskId, approvalId);
    const reply = await this.deliveries.reply(taskId);
    if (!reply || reply.status !== 'pending') return 'already answered';
    const attempt = job.attemptsMade + 1;
    try {
      const source = await this.sources.byId(reply.source);
      if (!source) throw new Error('its webhook configuration was deleted');
      const task = await this.tasks.get(taskId);
      const client = createProviderClient({
        provider: source.provider,
        credentials: source.credentials,
        apiUrl: source.apiUrl,
        egress: this.egress,
      });
      await client.reply(reply.target, replyText(task, source.provider, this.config.HANGAR_PUBLIC_URL));
      await this.deliveries.replySent(taskId, attempt);
      return 'sent';
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const final = attempt >= REPLY_ATTEMPTS;
      await this.deliveries.replyFailed(taskId, attempt, reason, final);
      this.logger.warn(
        `answer to task ${taskId} not sent (attempt ${attempt} of ${REPLY_ATTEMPTS}): ${reason}`,
      );
      if (final) return 'failed';
      throw error;
    }
  }

  // A tool call of the thread's task waits for approval: said in the thread, while the thread is
  // owed the task's answer and the approval still waits (the queue retries a failing provider).
  private async announceApproval(taskId: string, approvalId: string): Promise<string> {
    const [reply, approval] = await Promise.all([
      this.deliveries.reply(taskId),
      this.approvals.get(approvalId),
    ]);
    if (!reply || reply.status !== 'pending') return 'not from a thread';
    if (!approval || approval.status !== 'PENDING') return 'answered already';
    const source = await this.sources.byId(reply.source);
    if (!source) return 'its webhook configuration was deleted';
    const client = createProviderClient({
      provider: source.provider,
      credentials: source.credentials,
      apiUrl: source.apiUrl,
      egress: this.egress,
    });
    await client.reply(
      reply.target,
      approvalRequestText(approval, source.provider, {
        prefix: source.prefix,
        publicUrl: this.config.HANGAR_PUBLIC_URL,
      }),
    );
    return 'announced';
  }
}
