import { Injectable, Logger } from '@nestjs/common';
import type { AgentEvent, Task } from '@hangar/contracts';
import { ModelCallRepository, type NewModelCall } from '@hangar/db';
import { TaskLifecycle } from '@hangar/platform';

// Where the model gateway stores the calls it metered, off the calls' path; an attempt's end
// waits for its calls still being stored, so a finished task's usage is all of its calls. It
// also keeps why the gateway refused an attempt's call (a budget spent): the attempt ends
// FAILED with that reason, whatever its CLI made of the refusal. What the gateway tells of a call
// (a budget's soft limit reached) becomes an event of the task, before its end.
@Injectable()
export class ModelCallLedger {
  private readonly logger = new Logger(ModelCallLedger.name);
  // By attempt (`task:attempt`): the calls being stored.
  private readonly pending = new Map<string, Set<Promise<void>>>();
  // By attempt: why its calls are refused.
  private readonly refusals = new Map<string, string>();

  constructor(
    private readonly calls: ModelCallRepository,
    private readonly lifecycle: TaskLifecycle,
  ) {}

  record(call: NewModelCall): void {
    this.track(
      call.taskId,
      call.attempt,
      this.calls
        .record(call)
        .catch((error: unknown) =>
          this.logger.warn({ err: error, taskId: call.taskId }, 'a model call was not recorded'),
        ),
    );
  }

  // Work about an attempt's call that its end waits for (never failing).
  track(taskId: string, attempt: number, work: Promise<void>): void {
    const key = `${taskId}:${attempt}`;
    const tracked = work.finally(() => {
      const set = this.pending.get(key);
      set?.delete(tracked);
      if (set?.size === 0) this.pending.delete(key);
    });
    this.pending.set(key, (this.pending.get(key) ?? new Set()).add(tracked));
  }

  // An event of the task, numbered after what its attempt recorded so far.
  async note(task: Task, event: AgentEvent): Promise<void> {
    const log = await this.lifecycle.freshLog(task);
    await log.append([event]);
    await log.flush();
  }

  refuse(taskId: string, attempt: number, reason: string): void {
    if (this.refusals.size > 10_000) this.refusals.clear();
    this.refusals.set(`${taskId}:${attempt}`, reason);
  }

  refusal(taskId: string, attempt: number): string | undefined {
    return this.refusals.get(`${taskId}:${attempt}`);
  }

  // The attempt ended: its refusal (if any) is answered once.
  ended(taskId: string, attempt: number): string | undefined {
    const reason = this.refusal(taskId, attempt);
    this.refusals.delete(`${taskId}:${attempt}`);
    return reason;
  }

  async settled(taskId: string, attempt: number): Promise<void> {
    await Promise.all([...(this.pending.get(`${taskId}:${attempt}`) ?? [])]);
  }
}
