import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { TASK_QUEUE, taskIdOfJob, type TaskJob } from '@hangar/contracts';
import { createRedis } from '@hangar/redis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

export interface QueuedTaskIds {
  waiting: string[];
  delayed: string[];
  active: string[];
}

// Reads the orchestrator's task queue (BullMQ) without adding to it: which tasks its jobs
// are for, by state. Jobs carry a priority, so waiting ones sit in `prioritized`.
@Injectable()
export class TaskQueueJobs implements OnApplicationShutdown {
  private readonly connection: Redis;
  private readonly queue: Queue<TaskJob>;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.connection = createRedis(config.REDIS_URL);
    this.queue = new Queue<TaskJob>(TASK_QUEUE, {
      connection: this.connection,
      prefix: `${config.HANGAR_REDIS_PREFIX}:queue`,
    });
  }

  async taskIds(): Promise<QueuedTaskIds> {
    const [waiting, delayed, active] = await Promise.all([
      this.queue.getRanges(['wait', 'prioritized'], 0, -1),
      this.queue.getRanges(['delayed'], 0, -1),
      this.queue.getRanges(['active'], 0, -1),
    ]);
    return {
      waiting: waiting.map(taskIdOfJob),
      delayed: delayed.map(taskIdOfJob),
      active: active.map(taskIdOfJob),
    };
  }

  // BullMQ leaves a connection it was given open: it is ours to close.
  async onApplicationShutdown() {
    await this.queue.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
