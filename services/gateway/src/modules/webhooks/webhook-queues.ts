import { Inject, Injectable } from '@nestjs/common';
import type { WebhookJob, WebhookReplyJob } from '@hangar/contracts';
import {
  type Job,
  type QueueProducer,
  type QueueWorker,
  Queues,
  type QueueSpec,
  WEBHOOK_DELIVERY_QUEUE_SPEC,
  WEBHOOK_REPLY_QUEUE_SPEC,
} from '@hangar/redis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// How often an answer is tried when its provider fails (the queue's own retry policy).
export const REPLY_ATTEMPTS = WEBHOOK_REPLY_QUEUE_SPEC.jobs.attempts ?? 1;

// The gateway's two durable queues (BullMQ through @hangar/redis's Queues, so work survives
// restarts and is shared by every replica): verified deliveries, and answers owed to providers.
@Injectable()
export class WebhookQueues {
  private readonly deliveries: QueueProducer<WebhookJob>;
  private readonly replies: QueueProducer<WebhookReplyJob>;

  constructor(
    private readonly queues: Queues,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.deliveries = queues.producer(WEBHOOK_DELIVERY_QUEUE_SPEC);
    this.replies = queues.producer(WEBHOOK_REPLY_QUEUE_SPEC);
  }

  async enqueueDelivery(deliveryId: string): Promise<void> {
    await this.deliveries.add('delivery', { deliveryId }, { jobId: deliveryId });
  }

  async enqueueReply(taskId: string): Promise<void> {
    await this.replies.add('reply', { taskId }, { jobId: `reply-${taskId}` });
  }

  work<T>(
    spec: QueueSpec<T>,
    processor: (job: Job<T>, token?: string) => Promise<string>,
  ): QueueWorker<T, string> {
    return this.queues.consumer(spec, (_data, job, token) => processor(job, token), {
      concurrency: this.config.WEBHOOK_WORKER_CONCURRENCY,
    });
  }
}
