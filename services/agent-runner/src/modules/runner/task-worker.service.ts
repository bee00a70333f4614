import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { TaskJob } from '@hangar/contracts';
import { Queues, type QueueWorker, TASK_QUEUE_SPEC } from '@hangar/redis';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { TaskRunService } from './task-run.service';

// Takes jobs from the durable queue, as many at once as the runner has slots.
@Injectable()
export class TaskWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TaskWorkerService.name);
  private worker: QueueWorker<TaskJob, string> | undefined;

  constructor(
    private readonly runs: TaskRunService,
    private readonly queues: Queues,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  onApplicationBootstrap() {
    this.worker = this.queues.consumer(TASK_QUEUE_SPEC, (job) => this.process(job), {
      concurrency: this.config.RUNNER_SLOTS,
      // A lost runner is the orchestrator's to detect (heartbeats) and retry; a stalled job
      // must not also be re-run by BullMQ.
      maxStalledCount: 0,
    });
    this.worker.on('failed', (job, error) => this.logger.error({ err: error, jobId: job?.id }, 'job failed'));
    this.worker.on('error', (error) => this.logger.error({ err: error }, 'queue error'));
  }

  async process({ taskId, attempt }: TaskJob): Promise<string> {
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
}
