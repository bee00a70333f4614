import { Injectable, Logger } from '@nestjs/common';
import { ModelCallRepository, type NewModelCall } from '@hangar/db';

// Where the model gateway stores the calls it metered, off the calls' path; an attempt's end
// waits for its calls still being stored, so a finished task's usage is all of its calls. It
// also keeps why the gateway refused an attempt's call (a budget spent): the attempt ends
// FAILED with that reason, whatever its CLI made of the refusal.
@Injectable()
export class ModelCallLedger {
  private readonly logger = new Logger(ModelCallLedger.name);
  // By attempt (`task:attempt`): the calls being stored.
  private readonly pending = new Map<string, Set<Promise<void>>>();
  // By attempt: why its calls are refused.
  private readonly refusals = new Map<string, string>();

  constructor(private readonly calls: ModelCallRepository) {}

  record(call: NewModelCall): void {
    const key = `${call.taskId}:${call.attempt}`;
    const stored = this.calls
      .record(call)
      .catch((error: unknown) =>
        this.logger.warn({ err: error, taskId: call.taskId }, 'a model call was not recorded'),
      )
      .finally(() => {
        const set = this.pending.get(key);
        set?.delete(stored);
        if (set?.size === 0) this.pending.delete(key);
      });
    this.pending.set(key, (this.pending.get(key) ?? new Set()).add(stored));
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
