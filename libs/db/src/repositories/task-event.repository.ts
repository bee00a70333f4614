import type { TaskEvent, TaskEventPage } from '@hangar/contracts';
import type { PrismaClient } from '../generated/prisma/client';

// What an event adds to a page beside its data: taskId, seq, at and type as JSON.
const EVENT_ENVELOPE_BYTES = 100;

export class TaskEventRepository {
  constructor(private readonly prisma: PrismaClient) {}

  // Idempotent: a batch written twice (retry after a lost reply) leaves one copy of each seq.
  async insertBatch(events: TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    const taskId = events[0]!.taskId;
    const maxSeq = Math.max(...events.map((event) => event.seq));
    // One statement, atomic as one (a runner writes a few batches per task: as a transaction of
    // two statements each was four round trips): the events as one JSON parameter, and the
    // task's lastSeq raised with them.
    const rows = events.map((event) => ({
      task_id: event.taskId,
      seq: event.seq,
      type: event.type,
      data: event.data,
      at: event.at,
    }));
    await this.prisma.$executeRaw`
      WITH inserted AS (
        INSERT INTO task_events (task_id, seq, type, data, at)
        SELECT e.task_id, e.seq, e.type, e.data, e.at
        FROM json_to_recordset(${JSON.stringify(rows)}::json)
          AS e(task_id text, seq int, type text, data jsonb, at timestamptz)
        ON CONFLICT DO NOTHING
      )
      UPDATE tasks SET last_seq = ${maxSeq}, updated_at = now()
      WHERE id = ${taskId} AND last_seq < ${maxSeq}`;
  }

  // Events after `afterSeq`, at most `limit` of them and stopping before `maxBytes` (the data as
  // PostgreSQL writes it, a little longer than JSON.stringify, plus an envelope per event); at
  // least one, however large. Only the rows of the page leave the database.
  async page(
    taskId: string,
    afterSeq: number,
    { limit, maxBytes }: { limit: number; maxBytes: number },
  ): Promise<TaskEventPage> {
    const rows = await this.prisma.$queryRaw<
      { seq: number; type: string; data: unknown; at: Date; candidates: number }[]
    >`
      SELECT seq, type, data, at, candidates
      FROM (
        SELECT seq, type, data, at,
               row_number() OVER w AS n,
               sum(octet_length(data::text) + ${EVENT_ENVELOPE_BYTES}) OVER w AS through,
               count(*) OVER ()::int AS candidates
        FROM (
          SELECT seq, type, data, at FROM task_events
          WHERE task_id = ${taskId} AND seq > ${afterSeq}
          ORDER BY seq
          LIMIT ${limit + 1}
        ) next_rows
        WINDOW w AS (ORDER BY seq)
      ) sized
      WHERE n <= ${limit} AND (n = 1 OR through <= ${maxBytes})
      ORDER BY seq`;
    const items = rows.map(({ candidates: _candidates, ...row }) => toEvent({ taskId, ...row }));
    // More rows were read than the page holds: the page was cut by its limit or its bytes.
    const more = (rows[0]?.candidates ?? 0) > items.length;
    return { items, nextAfterSeq: more ? (items.at(-1)?.seq ?? null) : null };
  }

  async listAfter(taskId: string, afterSeq: number, limit = 1000): Promise<TaskEvent[]> {
    const rows = await this.prisma.taskEvent.findMany({
      where: { taskId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
    });
    return rows.map(toEvent);
  }
}

function toEvent(row: { taskId: string; seq: number; type: string; data: unknown; at: Date }): TaskEvent {
  return {
    taskId: row.taskId,
    seq: row.seq,
    type: row.type,
    data: row.data,
    at: row.at.toISOString(),
  } as TaskEvent;
}
