import { Inject, Injectable, Logger } from '@nestjs/common';
import { HangarError, type TaskCancelReply } from '@hangar/contracts';
import { TaskRepository } from '@hangar/db';
import { StatusEvents } from '@hangar/platform';
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
    private readonly statusEvents: StatusEvents,
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
    const task = await this.tasks.find(taskId);
    if (!task) return { ok: false, code: 'TASK_NOT_FOUND', message: `task ${taskId} does not exist` };
    if (task.status === 'QUEUED') {
      const cancelled = await this.tasks.cancelQueued(taskId);
      if (cancelled) {
        await this.queue.remove(taskId, task.attempts + 1);
        await this.statusEvents.publish(cancelled, 'cancelled before it started');
        return { ok: true, status: cancelled.status };
      }
      // It started in between: cancel it as a running task.
      return this.cancel(taskId);
    }
    if (task.status === 'RUNNING') {
      await this.tasks.requestCancel(taskId);
      // Runners also see the request on their next heartbeat; the message makes it immediate.
      lastValueFrom(this.runners.emit(Patterns.runnerCancel, { taskId }).pipe(timeout(5000))).catch(
        (error: unknown) =>
          this.logger.warn(
            `runner.cancel for ${taskId} not sent (${String(error)}); the runner's heartbeat will see it`,
          ),
      );
      return { ok: true, status: 'RUNNING' };
    }
    const error = new HangarError('INVALID_TRANSITION', `task ${taskId} is already ${task.status}`);
    return { ok: false, code: error.code, message: error.message };
  }
}
