import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TERMINAL_STATUSES, type TaskEvent } from '@hangar/contracts';
import { TaskEventRepository } from '@hangar/db';
import { REDIS, TaskEventStream } from '@hangar/redis';
import { WEBSOCKET_POOL_CONFIG, type WebsocketPoolConfig } from '../../config';

export interface Delivery {
  stop(): void;
  done: Promise<void>;
}

// Delivers one task's events after a sequence number, in order, each once: first what only
// Postgres still holds (the stream was trimmed or has expired), then the Redis stream, then
// live by blocking reads — until the task's terminal status event has been delivered.
@Injectable()
export class TaskDeliveryService {
  private readonly logger = new Logger(TaskDeliveryService.name);

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly stream: TaskEventStream,
    private readonly history: TaskEventRepository,
    @Inject(WEBSOCKET_POOL_CONFIG) private readonly config: WebsocketPoolConfig,
  ) {}

  start(taskId: string, afterSeq: number, emit: (event: TaskEvent) => void): Delivery {
    const connection = this.redis.duplicate();
    connection.on('error', () => undefined);
    let stopped = false;
    const stop = () => {
      stopped = true;
      connection.disconnect();
    };
    const done = this.loop(taskId, afterSeq, connection, emit, () => stopped)
      .catch((error: unknown) => {
        if (!stopped) this.logger.error({ err: error, taskId }, 'delivery failed');
      })
      .finally(() => connection.disconnect());
    return { stop, done };
  }

  private async loop(
    taskId: string,
    afterSeq: number,
    connection: Redis,
    emit: (event: TaskEvent) => void,
    isStopped: () => boolean,
  ) {
    let last = afterSeq;
    // Returns true once the terminal event has gone out.
    const deliver = (events: TaskEvent[]): boolean => {
      for (const event of events) {
        if (event.seq <= last) continue;
        if (event.seq !== last + 1)
          throw new Error(`gap in task ${taskId} events: expected ${last + 1}, got ${event.seq}`);
        emit(event);
        last = event.seq;
        if (event.type === 'task.status' && TERMINAL_STATUSES.includes(event.data.status)) return true;
      }
      return false;
    };

    while (!isStopped()) {
      const first = await this.stream.firstSeq(taskId);
      if (first === null || first > last + 1) {
        const upTo = first === null ? Number.POSITIVE_INFINITY : first - 1;
        const fromHistory = (await this.history.listAfter(taskId, last, 1000)).filter(
          (event) => event.seq <= upTo,
        );
        if (deliver(fromHistory)) return;
        if (first !== null && last < upTo) {
          // Postgres is behind the trimmed stream for a moment (a runner's batch in flight);
          // nothing announces when that batch lands, so look again shortly.
          await sleep(50);
          continue;
        }
      }
      // XREAD answers at once when the stream already holds newer events, and blocks otherwise.
      if (deliver(await this.stream.waitAfter(connection, taskId, last, this.config.STREAM_BLOCK_MS))) return;
    }
  }
}
