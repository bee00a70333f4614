import type { Redis } from 'ioredis';
import type { MetricRecord } from '@hangar/contracts';

// The consumer group the metrics service reads the records with (one group: every replica shares
// the work, each record goes to one of them).
export const METRICS_GROUP = 'metrics';

// One record as read: its entry id and body, unparsed (a body that does not parse is parked by
// the consumer, with its reason, not retried).
export interface StreamedRecord {
  id: string;
  body: string;
}

// The records the metrics service turns into time series (docs/observability.md), on one Redis
// stream read with a consumer group: XREADGROUP hands each entry to one consumer and keeps it
// pending until XACK, so a consumer that dies before storing it leaves it to be read again (by
// itself when it restarts, or claimed by another once idle long enough). A stream rather than a
// BullMQ queue: records are appended by whatever ended a task and read in batches, in order,
// without a job's bookkeeping each. The stream is capped (MAXLEN ~): a consumer away for longer
// than it holds loses the oldest, which the metrics service rebuilds from PostgreSQL.
export class MetricRecordStream {
  private readonly maxLen: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; maxLen?: number },
  ) {
    this.maxLen = options.maxLen ?? 100_000;
  }

  get key(): string {
    return `${this.options.prefix}:metrics:records`;
  }

  async append(records: readonly MetricRecord[]): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const record of records)
      pipeline.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'r', JSON.stringify(record));
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  // Appends bodies as they are, parsed or not (a test's poison record).
  async appendRaw(bodies: readonly string[]): Promise<void> {
    for (const body of bodies) await this.redis.xadd(this.key, '*', 'r', body);
  }

  // The group, from the stream's start, made once (a second call finds it made).
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.key, METRICS_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    }
  }

  // New entries for `consumer`, waiting up to blockMs for some. Blocks: a connection of its own.
  async readNew(
    connection: Redis,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<StreamedRecord[]> {
    const reply = (await connection.xreadgroup(
      'GROUP',
      METRICS_GROUP,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.key,
      '>',
    )) as [string, [string, string[]][]][] | null;
    return reply ? decode(reply[0]?.[1] ?? []) : [];
  }

  // What was handed to `consumer` and never acknowledged (it stopped before storing it).
  async readOwnPending(consumer: string, count: number): Promise<StreamedRecord[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      METRICS_GROUP,
      consumer,
      'COUNT',
      count,
      'STREAMS',
      this.key,
      '0',
    )) as [string, [string, string[] | null][]][] | null;
    return decode(reply?.[0]?.[1] ?? []);
  }

  // Entries another consumer was handed and left unacknowledged for minIdleMs (it died): now
  // `consumer`'s.
  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<StreamedRecord[]> {
    const reply = (await this.redis.xautoclaim(
      this.key,
      METRICS_GROUP,
      consumer,
      minIdleMs,
      '0-0',
      'COUNT',
      count,
    )) as [string, [string, string[] | null][], string[]?];
    return decode(reply[1] ?? []);
  }

  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.xack(this.key, METRICS_GROUP, ...ids);
  }

  // Entries not yet read by the group, and read but not acknowledged (for the service's gauges).
  async backlog(): Promise<{ lag: number; pending: number }> {
    const groups = (await this.redis.xinfo('GROUPS', this.key).catch(() => [])) as unknown[][];
    for (const group of groups) {
      const fields = new Map<string, unknown>();
      for (let i = 0; i + 1 < group.length; i += 2) fields.set(String(group[i]), group[i + 1]);
      if (fields.get('name') === METRICS_GROUP)
        return { lag: Number(fields.get('lag') ?? 0) || 0, pending: Number(fields.get('pending') ?? 0) || 0 };
    }
    return { lag: 0, pending: 0 };
  }
}

// An entry trimmed away while pending comes back without fields: nothing to store, but its id
// is acknowledged with the rest.
function decode(entries: [string, string[] | null][]): StreamedRecord[] {
  return entries.map(([id, fields]) => {
    const at = fields ? fields.indexOf('r') : -1;
    return { id, body: at >= 0 && fields ? (fields[at + 1] ?? '') : '' };
  });
}
