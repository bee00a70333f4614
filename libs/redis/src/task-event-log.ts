import type { AgentEvent, TaskEvent } from '@hangar/contracts';
import type { TaskEventStream } from './task-event-stream';

// Where history is kept for good (Postgres, through @hangar/db's TaskEventRepository).
export interface TaskEventSink {
  insertBatch(events: TaskEvent[]): Promise<void>;
}

// Appends a task's events to its Redis Stream at once (live subscribers see them within
// milliseconds) and writes them to Postgres in batches. `flush()` before a task's final
// transition guarantees history is complete once the task is terminal.
export class TaskEventLog {
  private pending: TaskEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly taskId: string,
    private readonly stream: TaskEventStream,
    private readonly sink: TaskEventSink,
    private readonly options: { minSeq: number; batchSize?: number; flushIntervalMs?: number } = {
      minSeq: 1,
    },
  ) {}

  async append(events: AgentEvent[]): Promise<TaskEvent[]> {
    const numbered = await this.stream.append(this.taskId, events, this.options.minSeq);
    const last = numbered.at(-1);
    if (last) this.options.minSeq = last.seq + 1;
    this.pending.push(...numbered);
    if (this.pending.length >= (this.options.batchSize ?? 200)) void this.flush().catch(() => undefined);
    else
      this.timer ??= setTimeout(
        () => void this.flush().catch(() => undefined),
        this.options.flushIntervalMs ?? 250,
      );
    return numbered;
  }

  // Serialised: batches reach Postgres in order, and a failed batch is retried by the next flush.
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(async () => {
        const batch = this.pending;
        this.pending = [];
        if (batch.length === 0) return;
        try {
          await this.sink.insertBatch(batch);
        } catch (error) {
          this.pending = [...batch, ...this.pending];
          this.failure = error;
          throw error;
        }
      });
    return this.flushing;
  }

  get lastFailure(): unknown {
    return this.failure;
  }
}
