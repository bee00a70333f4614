import type { Redis } from 'ioredis';
import type { AgentEvent, TaskEvent } from '@hangar/contracts';

// Per-task Redis Stream, the live + short-replay log of a task's events. The stream entry id
// IS the sequence number (`<seq>-0`), so "replay after seq N" is a plain XRANGE/XREAD from
// N, and two writers can never hand out the same number: the Lua script reads the last id
// and appends atomically.
export const APPEND_SCRIPT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = tonumber(ARGV[1])
if #last > 0 then
  local lastSeq = tonumber(string.match(last[1][1], '^(%d+)'))
  if lastSeq >= seq then seq = lastSeq + 1 end
end
local first = seq
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', ARGV[i])
  seq = seq + 1
end
return first
`;

export interface TaskEventStreamOptions {
  prefix: string;
  maxLen?: number;
}

interface StoredEvent {
  type: AgentEvent['type'];
  data: unknown;
  at: string;
}

export class TaskEventStream {
  private readonly maxLen: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: TaskEventStreamOptions,
  ) {
    this.maxLen = options.maxLen ?? 10_000;
  }

  key(taskId: string): string {
    return `${this.options.prefix}:task:${taskId}:events`;
  }

  // Appends in order and returns the numbered events. `minSeq` lets a writer continue after
  // what Postgres already holds when the stream has expired.
  async append(taskId: string, events: AgentEvent[], minSeq = 1): Promise<TaskEvent[]> {
    if (events.length === 0) return [];
    const at = new Date().toISOString();
    const payloads = events.map((event) => JSON.stringify({ type: event.type, data: event.data, at }));
    const first = (await this.redis.eval(
      APPEND_SCRIPT,
      1,
      this.key(taskId),
      String(minSeq),
      String(this.maxLen),
      ...payloads,
    )) as number;
    return events.map((event, index) => ({ ...event, taskId, seq: first + index, at }));
  }

  // Events with seq > afterSeq still in the stream, oldest first.
  async readAfter(taskId: string, afterSeq: number, count = 1000): Promise<TaskEvent[]> {
    const entries = await this.redis.xrange(this.key(taskId), `(${afterSeq}-0`, '+', 'COUNT', count);
    return entries.map(([id, fields]) => this.decode(taskId, id, fields));
  }

  // Waits up to blockMs for events after afterSeq. Needs a connection of its own (it blocks).
  async waitAfter(connection: Redis, taskId: string, afterSeq: number, blockMs: number, count = 1000) {
    const reply = await connection.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.key(taskId),
      `${afterSeq}-0`,
    );
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([id, fields]) => this.decode(taskId, id, fields));
  }

  async firstSeq(taskId: string): Promise<number | null> {
    const entries = await this.redis.xrange(this.key(taskId), '-', '+', 'COUNT', 1);
    const id = entries[0]?.[0];
    return id === undefined ? null : seqOf(id);
  }

  async lastSeq(taskId: string): Promise<number> {
    const entries = await this.redis.xrevrange(this.key(taskId), '+', '-', 'COUNT', 1);
    const id = entries[0]?.[0];
    return id === undefined ? 0 : seqOf(id);
  }

  // A finished task's stream stays for late subscribers, then Postgres alone holds history.
  async expire(taskId: string, seconds: number): Promise<void> {
    await this.redis.expire(this.key(taskId), seconds);
  }

  async trim(taskId: string, keepLast: number): Promise<void> {
    await this.redis.xtrim(this.key(taskId), 'MAXLEN', keepLast);
  }

  private decode(taskId: string, id: string, fields: string[]): TaskEvent {
    const index = fields.indexOf('e');
    const stored = JSON.parse(fields[index + 1] ?? '{}') as StoredEvent;
    return { type: stored.type, data: stored.data, at: stored.at, taskId, seq: seqOf(id) } as TaskEvent;
  }
}

export function seqOf(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
