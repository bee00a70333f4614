import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { TASK_QUEUE, TaskJobSchema, type TaskJob } from '@hangar/contracts';
import type { Redis } from 'ioredis';
import { createRedis } from '@hangar/redis';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { TaskRunService } from './task-run.service';

// Takes jobs from the durable queue, as many at once as the runner has slots.
@Injectable()
export class TaskWorkerService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(TaskWorkerService.name);
  private worker: Worker<TaskJob> | undefined;
  private readonly connection: Redis;

  constructor(
    private readonly runs: TaskRunService,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {
    this.connection = createRedis(config.REDIS_URL);
  }

  onApplicationBootstrap() {
    this.worker = new Worker<TaskJob>(TASK_QUEUE, (job) => this.process(job), {
      connection: this.connection,
      prefix: `${this.config.HANGAR_REDIS_PREFIX}:queue`,
      concurrency: this.config.RUNNER_SLOTS,
      // A lost runner is the orchestrator's to detect (heartbeats) and retry; a stalled job
      // must not also be re-run by BullMQ.
      maxStalledCount: 0,
    });
    this.worker.on('failed', (job, error) => this.logger.error({ err: error, jobId: job?.id }, 'job failed'));
    this.worker.on('error', (error) => this.logger.error({ err: error }, 'queue error'));
  }

  async process(job: Job<TaskJob>): Promise<string> {
    const { taskId, attempt } = TaskJobSchema.parse(job.data);
    const outcome = await this.runs.runAttempt(taskId, attempt);
    if (!outcome.claimed) return 'skipped: task is no longer waiting for this attempt';
    return outcome.finished?.status ?? 'taken-over';
  }

  // SIGTERM: take no new work; running tasks get a grace period, then go back to the queue.
  // Before shutdown (not on it): the database, Redis and heartbeats must still serve the
  // runs that finish or are requeued meanwhile; Nest closes them in onApplicationShutdown.
  async beforeApplicationShutdown() {
    if (!this.worker) return;
    const closing = this.worker.close();
    const grace = new Promise<'grace-over'>((resolve) =>
      setTimeout(() => resolve('grace-over'), this.config.RUNNER_SHUTDOWN_GRACE_MS).unref(),
    );
    if ((await Promise.race([closing.then(() => 'closed' as const), grace])) === 'grace-over') {
      this.logger.warn(`grace period over: requeuing ${this.runs.runningTaskIds().length} running task(s)`);
      for (const taskId of this.runs.runningTaskIds()) this.runs.cancel(taskId, 'shutdown');
      await closing;
    }
  }

  // BullMQ leaves a connection it was given open: it is ours to close.
  async onApplicationShutdown() {
    await this.connection.quit();
  }
}
