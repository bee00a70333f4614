import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MetricRecordSchema, type TaskEndedRecord } from '@hangar/contracts';
import {
  TaskSamples,
  type ParkedRecord,
  type StoredSample,
  type TaskActivity,
  type TaskSample,
} from '@hangar/db';
import { MetricRecordStream, REDIS, type StreamedRecord } from '@hangar/redis';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';
import { AnomalyDetector } from '../alerts/anomaly-detector.service';
import { SampleUpkeep } from './sample-upkeep.service';
import { SamplesMetrics } from './samples.metrics';

// A blocking read returns at least this often, so a stop is never kept waiting long.
const BLOCK_MS = 2_000;
// After Redis or PostgreSQL failed a pass: the wait before the next.
const RETRY_MS = 1_000;
// Batches stored at the same time, each in its own transaction.
const STORES_IN_FLIGHT = 2;

// Reads the records stream with the consumer group and stores each record once: a batch's samples
// and their rollups in one statement (a sample stored before is not counted again), then
// acknowledged. What this replica read and did not store before it stopped is read again first
// when it starts; what a replica that is gone left is taken over once idle long enough. A body
// that is not a record — or a record PostgreSQL refuses — is parked with the reason, not retried.
@Injectable()
export class RecordIngest implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RecordIngest.name);
  private reader: Redis | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private claimedAt = 0;

  constructor(
    private readonly records: MetricRecordStream,
    private readonly samples: TaskSamples,
    private readonly upkeep: SampleUpkeep,
    private readonly metrics: SamplesMetrics,
    private readonly anomalies: AnomalyDetector,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {}

  async onApplicationBootstrap() {
    // The day's partition before its first sample: one stored first would sit in the default
    // partition and keep the day from having one.
    await this.upkeep.prepareStorage();
    await this.records.ensureGroup();
    this.reader = this.redis.duplicate();
    this.loop = this.run();
  }

  async onApplicationShutdown() {
    this.stopping = true;
    // Ends a blocking read at once; a batch being stored is finished first (the loop ends after it).
    this.reader?.disconnect();
    await this.loop;
  }

  // Up to STORES_IN_FLIGHT batches are stored at a time, each in its own transaction, and while
  // they are the next batch of new records is read and parsed (and its tool calls looked up):
  // this process and PostgreSQL work at the same time rather than in turn. Two transactions wait
  // for each other only at the rollup rows they share (docs/observability.md). Nothing is
  // acknowledged before its own transaction has committed, whatever was read ahead; after a
  // failure, what is in flight is finished before what stayed pending is read again.
  private async run(): Promise<void> {
    const consumer = this.config.METRICS_CONSUMER;
    const count = this.config.METRICS_BATCH_SIZE;
    let ownPending = true;
    let ahead: Promise<Prepared | Error> | undefined;
    const inFlight = new Set<Promise<void>>();
    // The first failure of a store in flight, thrown on the loop's next pass.
    let failure: Error | undefined;
    const throwFailure = () => {
      const error = failure;
      failure = undefined;
      if (error) throw error;
    };
    const settle = async () => {
      await Promise.all(inFlight);
      if (ahead) await ahead;
      ahead = undefined;
    };
    while (!this.stopping) {
      try {
        throwFailure();
        let prepared: Prepared | undefined;
        if (ownPending) {
          // What this consumer holds pending includes what is in flight: let it land first.
          await Promise.all(inFlight);
          throwFailure();
          const batch = await this.records.readOwnPending(consumer, count);
          ownPending = batch.length > 0;
          if (batch.length > 0) prepared = await this.prepare(batch);
        }
        if (!prepared) {
          const claimed = await this.claimStale(consumer, count);
          if (claimed.length > 0) prepared = await this.prepare(claimed);
        }
        if (!prepared && this.reader) {
          const next = await (ahead ?? this.readAhead(this.reader, consumer, count));
          ahead = undefined;
          if (next instanceof Error) throw next;
          prepared = next;
        }
        if (!prepared || prepared.batch.length === 0) continue;
        const stored = this.commit(prepared).catch((error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        });
        inFlight.add(stored);
        void stored.finally(() => inFlight.delete(stored));
        // A full batch says more are waiting: read them while this one is stored.
        if (!ownPending && !ahead && prepared.batch.length === count && this.reader)
          ahead = this.readAhead(this.reader, consumer, count);
        if (inFlight.size >= STORES_IN_FLIGHT) await Promise.race(inFlight);
      } catch (error) {
        // What was read ahead is pending too: read again below with the rest, not twice.
        await settle();
        failure = undefined;
        if (this.stopping) break;
        // What was read stays pending: read again, first, on the next pass.
        ownPending = true;
        this.logger.warn(
          `records not stored, retrying: ${error instanceof Error ? error.message : String(error)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        if (this.reader?.status === 'end') this.reader = this.redis.duplicate();
      }
    }
    await settle();
  }

  // New records, parsed and looked up; a failure is returned, not thrown, so that a read ahead
  // that fails while nobody awaits it yet is never an unhandled rejection.
  private readAhead(reader: Redis, consumer: string, count: number): Promise<Prepared | Error> {
    return this.records
      .readNew(reader, consumer, count, BLOCK_MS)
      .then((batch) => this.prepare(batch))
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  }

  // Now and then (not every pass): what another replica read and left unstored too long.
  private async claimStale(consumer: string, count: number): Promise<StreamedRecord[]> {
    const idleMs = this.config.METRICS_CLAIM_IDLE_SECONDS * 1000;
    if (Date.now() - this.claimedAt < idleMs / 4) return [];
    const claimed = await this.records.claimStale(consumer, idleMs, count);
    if (claimed.length < count) this.claimedAt = Date.now();
    if (claimed.length > 0)
      this.logger.log(`took over ${claimed.length} records another replica left unstored`);
    return claimed;
  }

  // A batch parsed — records to store with their tool calls, bodies to park — before it is stored.
  private async prepare(batch: readonly StreamedRecord[]): Promise<Prepared> {
    const valid: Entry[] = [];
    const parked: ParkedRecord[] = [];
    for (const entry of batch) {
      const parsed = parse(entry.body);
      if ('record' in parsed) valid.push({ id: entry.id, body: entry.body, sample: parsed.record });
      else parked.push({ id: entry.id, body: entry.body, reason: parsed.reason });
    }
    const activity = await this.activity(valid.map((entry) => entry.sample));
    // The parsed record is this batch's own object: what its events say is added to it, not copied.
    for (const { sample } of valid) Object.assign(sample, activity.get(sample.taskId));
    return { batch, valid, parked };
  }

  private async commit({ batch, valid, parked }: Prepared): Promise<void> {
    const refused = await this.storeRecords(valid);
    parked.push(...refused);
    await this.samples.park(parked);
    await this.records.ack(batch.map((entry) => entry.id));
    if (parked.length > 0) {
      this.metrics.records.inc({ outcome: 'parked' }, parked.length);
      this.logger.warn(
        `parked ${parked.length} records that could not be stored (metric_records_parked): ${parked[0]?.reason ?? ''}`,
      );
    }
  }

  // Every record's task is in the answer (with nothing, when its events say nothing).
  private activity(records: readonly TaskEndedRecord[]): Promise<Map<string, Required<TaskActivity>>> {
    return this.samples.activity([...new Set(records.map((record) => record.taskId))]);
  }

  // Stores the records' samples (their tool calls added); those PostgreSQL refuses as data come
  // back to be parked, with its reason. A refused batch is stored again in halves, and so on
  // down to the records refused: a bad record in a batch of 2000 costs ~20 stores, not 2000.
  async storeRecords(entries: readonly Entry[]): Promise<ParkedRecord[]> {
    if (entries.length === 0) return [];
    try {
      const stored = await this.samples.store(
        entries.map((entry) => entry.sample),
        this.upkeep.rollupsSince(),
      );
      this.counted(entries.length, stored);
      // Judged before the batch is acknowledged (docs/alerts.md#anomalies).
      await this.anomalies.inspect(stored);
      return [];
    } catch (error) {
      if (!refusedAsData(error)) throw error;
      if (entries.length === 1)
        return entries.map(({ id, body }) => ({ id, body, reason: `refused: ${describe(error)}` }));
    }
    const half = Math.ceil(entries.length / 2);
    return [
      ...(await this.storeRecords(entries.slice(0, half))),
      ...(await this.storeRecords(entries.slice(half))),
    ];
  }

  // Records rebuilt from PostgreSQL (the reconciler's): stored as if they had arrived.
  async storeRebuilt(records: readonly TaskEndedRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const activity = await this.activity(records);
    const stored = await this.samples.store(
      records.map((record) => ({ ...record, ...activity.get(record.taskId)! })),
      this.upkeep.rollupsSince(),
    );
    this.metrics.stored(stored);
    this.metrics.reconciled.inc(stored.length);
    await this.anomalies.inspect(stored);
    return stored.length;
  }

  private counted(read: number, stored: readonly StoredSample[]) {
    this.metrics.stored(stored);
    this.metrics.records.inc({ outcome: 'stored' }, stored.length);
    if (read > stored.length) this.metrics.records.inc({ outcome: 'duplicate' }, read - stored.length);
  }
}

interface Entry {
  id: string;
  body: string;
  sample: TaskSample;
}

interface Prepared {
  batch: readonly StreamedRecord[];
  valid: Entry[];
  parked: ParkedRecord[];
}

// A record's sample, its tool calls to be added.
function parse(body: string): { record: TaskSample } | { reason: string } {
  if (body === '') return { reason: 'the entry was trimmed from the stream before it was stored' };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { reason: 'not JSON' };
  }
  const parsed = MetricRecordSchema.safeParse(value);
  // zod's output is a new object: the tool calls are added to it (one copy fewer a record).
  if (parsed.success) return { record: Object.assign(parsed.data, { toolCalls: {} }) };
  const issue = parsed.error.issues[0];
  return {
    reason: `not a record: ${issue ? `${issue.path.join('.') || '(record)'}: ${issue.message}` : 'invalid'}`,
  };
}

// PostgreSQL refused the data itself (SQLSTATE class 22, data exception; 23, integrity), as
// opposed to being unreachable: retrying the same record cannot help.
function refusedAsData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
