import { Inject, Injectable, Logger } from '@nestjs/common';
import { ATTEMPT_BACKEND, type AttemptBackend } from '../attempts/attempt-backend';
import { TaskRunService } from '../runner/task-run.service';

// Exit codes of run-task.js, for whoever started it (the kubernetes executor reads the pod's).
export const RUN_TASK_EXIT = {
  // The attempt ran to a final status (COMPLETED, FAILED or CANCELLED: the task says which).
  ran: 0,
  // Something broke before the run could end: the task is the orchestrator's to retry.
  crashed: 1,
  usage: 2,
  // The task is not waiting for this attempt (already run, cancelled, or another attempt).
  notWaiting: 3,
} as const;

@Injectable()
export class SingleTaskService {
  private readonly logger = new Logger(SingleTaskService.name);

  constructor(
    private readonly runs: TaskRunService,
    @Inject(ATTEMPT_BACKEND) private readonly backend: AttemptBackend,
  ) {}

  async run(taskId: string, attempt: number): Promise<number> {
    const outcome = await this.runs.runAttempt(taskId, attempt);
    if (!outcome.claimed) {
      this.logger.warn(`task ${taskId} is not waiting for attempt ${attempt}: nothing to do`);
      return RUN_TASK_EXIT.notWaiting;
    }
    return RUN_TASK_EXIT.ran;
  }

  // SIGTERM: the pod is going. When that is the controller deleting the Job of a cancelled
  // task, the run ends CANCELLED; otherwise (a node drained, the Job deleted by hand) the task
  // goes back to the queue, as with any runner that shuts down.
  async stop(): Promise<void> {
    const attempts = this.runs.runningAttempts();
    const cancelled = await this.backend.heartbeat(attempts).catch((): string[] => []);
    for (const { task } of attempts)
      this.runs.cancel(task.id, cancelled.includes(task.id) ? 'cancelled' : 'shutdown');
  }
}
