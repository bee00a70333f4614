import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { jobIdOf, QUEUE_PRIORITY, TASK_QUEUE, type TaskJob, type TaskPriority } from '@hangar/contracts';
import type { Redis } from 'ioredis';
import { createRedis } from '@hangar/redis';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from '../../config';

// The durable queue to the agent-runners. The job id is the task id plus the attempt, so
// enqueuing the same attempt twice (message and reconciler racing) is a no-op.
@Injectable()
export class TaskQueue implements OnApplicationShutdown {
  private readonly queue: Queue<TaskJob>;
  private readonly connection: Redis;

  constructor(@Inject(ORCHESTRATOR_CONFIG) config: OrchestratorConfig) {
    this.connection = createRedis(config.REDIS_URL);
    this.queue = new Queue<TaskJob>(TASK_QUEUE, {
      connection: this.connection,
      prefix: `${config.HANGAR_REDIS_PREFIX}:queue`,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, attempts: 1 },
    });
  }

  async enqueue(taskId: string, attempt: number, priority: TaskPriority): Promise<void> {
    await this.queue.add(
      'run',
      { taskId, attempt },
      { jobId: jobIdOf(taskId, attempt), priority: QUEUE_PRIORITY[priority] },
    );
  }

  // A job already taken by a runner cannot be removed; the runner then finds the task
  // CANCELLED and drops it.
  async remove(taskId: string, attempt: number): Promise<void> {
    await this.queue.remove(jobIdOf(taskId, attempt)).catch(() => 0);
  }

  async depth(): Promise<number> {
    return this.queue.count();
  }

  // BullMQ leaves a connection it was given open: it is ours to close.
  async onApplicationShutdown() {
    await this.queue.close();
    await this.connection.quit();
  }
}
