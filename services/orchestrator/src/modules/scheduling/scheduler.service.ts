import { Inject, Injectable, Logger } from '@nestjs/common';
import { type TaskCancelReply } from '@hangar/contracts';
import { TaskRepository } from '@hangar/db';
import { cancelRefusal, TaskLifecycle } from '@hangar/platform';
import { ClientProxy } from '@nestjs/microservices';
import { Patterns } from '@hangar/contracts';
import { lastValueFrom, timeout } from 'rxjs';
import { RUNNER_CLIENT } from './runner-client';
import { TaskQueue } from './task-queue';

@Injectable()
export class SchedulerService {
  private readonly logger = new Logger(SchedulerService.name);

  constructor(
    private readonly tasks: TaskRepository,
    private readonly queue: TaskQueue,
    private readonly lifecycle: TaskLifecycle,
    @Inject(RUNNER_CLIENT) private readonly runners: ClientProxy,
  ) {}

  // Idempotent: only QUEUED tasks are enqueued, under a job id that dedupes.
  async schedule(taskId: string): Promise<void> {
    const task = await this.tasks.find(taskId);
    if (!task) {
      this.logger.warn(`tasks.created for unknown task ${taskId}; ignored`);
      return;
    }
    if (task.status !== 'QUEUED') return;
    await this.queue.enqueue(task.id, task.attempts + 1, task.priority);
  }

  async cancel(taskId: string): Promise<TaskCancelReply> {
    const outcome = await this.lifecycle.cancel(taskId);
    const refused = cancelRefusal(taskId, outcome);
    if (refused) return { ok: false, code: refused.code, message: refused.message };
    if (outcome.kind === 'cancelled') {
      await this.queue.remove(taskId, outcome.task.attempts + 1);
      return { ok: true, status: outcome.task.status };
    }
    // Runners also see the request on their next heartbeat; the message makes it immediate.
    lastValueFrom(this.runners.emit(Patterns.runnerCancel, { taskId }).pipe(timeout(5000))).catch(
      (error: unknown) =>
        this.logger.warn(
          `runner.cancel for ${taskId} not sent (${String(error)}); the runner's heartbeat will see it`,
        ),
    );
    return { ok: true, status: 'RUNNING' };
  }
}
