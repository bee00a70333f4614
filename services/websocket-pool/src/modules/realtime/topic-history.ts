import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { parseTopic, type Topic } from '@hangar/contracts';
import { TaskEventRepository } from '@hangar/db';
import { TopicStreams, type TopicEntry } from '@hangar/redis';

export type HistoryRead =
  | { kind: 'entries'; entries: TopicEntry[] }
  // Conversation, project and workflow-run topics keep their last entries only: older ones are gone.
  | { kind: 'gone'; firstSeq: number };

// How long a replay waits for Postgres to catch up with a trimmed stream (a batch in flight).
const CATCH_UP_TRIES = 200;
const CATCH_UP_WAIT_MS = 50;

// The backlog of a topic after a sequence number: from its Redis stream while the stream still
// holds it, and for a task from Postgres (task_events) once the stream was trimmed or expired —
// the caller cannot tell which.
@Injectable()
export class TopicHistory {
  constructor(
    private readonly streams: TopicStreams,
    private readonly events: TaskEventRepository,
  ) {}

  async after(topic: Topic, afterSeq: number, limit: number): Promise<HistoryRead> {
    const { kind, id } = parseTopic(topic);
    for (let attempt = 0; ; attempt++) {
      const first = await this.streams.firstSeq(topic);
      if ((first !== null && first <= afterSeq + 1) || (first === null && kind !== 'task')) {
        return { kind: 'entries', entries: await this.streams.readAfter(topic, afterSeq, limit) };
      }
      if (kind !== 'task') return { kind: 'gone', firstSeq: first ?? afterSeq + 1 };
      // A stream that expired (first null) leaves Postgres as the whole history.
      const stored = (await this.events.listAfter(id, afterSeq, limit)).filter(
        (event) => first === null || event.seq < first,
      );
      if (first === null || stored[0]?.seq === afterSeq + 1) {
        return {
          kind: 'entries',
          entries: stored.map((event) => ({
            seq: event.seq,
            at: event.at,
            type: event.type,
            data: event.data,
          })),
        };
      }
      // The stream was trimmed past what Postgres holds yet: the runner's next batch brings it,
      // and nothing announces when, so look again shortly.
      if (attempt >= CATCH_UP_TRIES) {
        throw new Error(`task ${id}: events after ${afterSeq} are neither in its stream nor stored`);
      }
      await sleep(CATCH_UP_WAIT_MS);
    }
  }
}
