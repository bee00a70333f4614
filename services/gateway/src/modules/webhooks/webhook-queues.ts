import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, Worker, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { WEBHOOK_QUEUE, WEBHOOK_REPLY_QUEUE, type WebhookJob, type WebhookReplyJob } from '@hangar/contracts';
import { createRedis } from '@hangar/redis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// How often a delivery or a reply is tried when its provider fails, and how far apart.
export const DELIVERY_ATTEMPTS = 3;
export const REPLY_ATTEMPTS = 5;

// The gateway's two durable queues (BullMQ, so work survives restarts and is shared by every
// replica): verified deliveries, and answers owed to providers.
@Injectable()
export class WebhookQueues implements OnApplicationShutdown {
  private readonly connection: Redis;
  private readonly workers: Worker[] = [];
  private readonly workerConnections: Redis[] = [];
  readonly deliveries: Queue<WebhookJob>;
  readonly replies: Queue<WebhookReplyJob>;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.connection = createRedis(config.REDIS_URL);
    const prefix = this.prefix;
    this.deliveries = new Queue<WebhookJob>(WEBHOOK_QUEUE, {
      connection: this.connection,
      prefix,
      defaultJobOptions: {
        attempts: DELIVERY_ATTEMPTS,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    });
    this.replies = new Queue<WebhookReplyJob>(WEBHOOK_REPLY_QUEUE, {
      connection: this.connection,
      prefix,
      defaultJobOptions: {
        attempts: REPLY_ATTEMPTS,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    });
  }

  private get prefix(): string {
    return `${this.config.HANGAR_REDIS_PREFIX}:queue`;
  }

  async enqueueDelivery(deliveryId: string): Promise<void> {
    await this.deliveries.add('delivery', { deliveryId }, { jobId: deliveryId });
  }

  async enqueueReply(taskId: string): Promise<void> {
    await this.replies.add('reply', { taskId }, { jobId: `reply-${taskId}` });
  }

  work<T>(queue: string, processor: Processor<T>, options: Partial<WorkerOptions> = {}): Worker<T> {
    const connection = createRedis(this.config.REDIS_URL);
    this.workerConnections.push(connection);
    const worker = new Worker<T>(queue, processor, {
      connection,
      prefix: this.prefix,
      concurrency: this.config.WEBHOOK_WORKER_CONCURRENCY,
      ...options,
    });
    this.workers.push(worker as Worker);
    return worker;
  }

  async onApplicationShutdown() {
    // BullMQ leaves connections it was given open: they are ours to close.
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all(
      this.workerConnections.map((connection) => connection.quit().catch(() => connection.disconnect())),
    );
    await this.deliveries.close();
    await this.replies.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
