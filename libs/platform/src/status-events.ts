import { Injectable } from '@nestjs/common';
import type { Task } from '@hangar/contracts';
import { TaskEventRepository } from '@hangar/db';
import { TaskActivity } from './task-activity';
import { TaskEventLog, TaskEventStream } from '@hangar/redis';

// Status changes made outside a run (the orchestrator's cancel before start and lost-runner
// retries, the kubernetes executor's failed Jobs) are events too, so a subscriber sees every
// transition in the task's own sequence.
@Injectable()
export class StatusEvents {
  constructor(
    private readonly stream: TaskEventStream,
    private readonly events: TaskEventRepository,
    private readonly activity: TaskActivity,
  ) {}

  async publish(task: Task, reason?: string): Promise<void> {
    // The stream may be ahead of Postgres (a lost run's last batch): number after both.
    const minSeq = Math.max(task.lastSeq, await this.stream.lastSeq(task.id)) + 1;
    const log = new TaskEventLog(task.id, this.stream, this.events, { minSeq });
    await log.append([{ type: 'task.status', data: { status: task.status, ...(reason ? { reason } : {}) } }]);
    await log.flush();
    await this.activity.statusChanged(task, reason);
  }
}
