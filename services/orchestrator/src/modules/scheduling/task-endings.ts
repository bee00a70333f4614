import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { TaskEndedJob } from '@hangar/contracts';
import { inSpan, SpanKind } from '@hangar/observability';
import { Queues, SCHEDULING_QUEUE_SPEC, type QueueWorker } from '@hangar/redis';
import { SchedulerService } from './scheduler.service';

// Every task's end, as the task lifecycle tells it: its project may admit a waiting task. And a
// provider's quota back (SchedulerService.admitWaiting): the tasks held for it are admitted.
@Injectable()
export class TaskEndings implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TaskEndings.name);
  private worker: QueueWorker<TaskEndedJob, void> | undefined;

  constructor(
    private readonly queues: Queues,
    private readonly scheduler: SchedulerService,
  ) {}

  onApplicationBootstrap() {
    this.worker = this.queues.consumer(
      SCHEDULING_QUEUE_SPEC,
      // In the trace of what ended the task (its runner's span).
      (job) =>
        'taskId' in job
          ? inSpan('task.ended', job.trace, () => this.scheduler.taskEnded(job.taskId), {
              kind: SpanKind.CONSUMER,
              attributes: { 'hangar.task_id': job.taskId },
            })
          : this.scheduler.quotaBack(job.quotaBack),
      { concurrency: 4 },
    );
    this.worker.on('failed', (job, error) =>
      this.logger.warn(`scheduling job ${job?.id ?? '?'} failed: ${error.message}`),
    );
  }

  async onApplicationShutdown() {
    if (this.worker) await this.queues.release(this.worker);
  }
}
