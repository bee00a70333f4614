import { Injectable } from '@nestjs/common';
import type { Task } from '@hangar/contracts';
import { TaskEventRepository } from '@hangar/db';
import { TaskActivity } from '@hangar/platform';
import { TaskEventLog, TaskEventStream } from '@hangar/redis';

// Status changes the orchestrator makes (cancel before start, lost runner) are events too,
// so a subscriber sees every transition in the task's own sequence.
@Injectable()
export class StatusEvents {
  constructor(
    private readonly stream: TaskEventStream,
    private readonly events: TaskEventRepository,
    private readonly activity: TaskActivity,
  ) {}

  async publish(task: Task, reason?: string): Promise<void> {
    const log = new TaskEventLog(task.id, this.stream, this.events, { minSeq: task.lastSeq + 1 });
    await log.append([{ type: 'task.status', data: { status: task.status, ...(reason ? { reason } : {}) } }]);
    await log.flush();
    await this.activity.statusChanged(task, reason);
  }
}
