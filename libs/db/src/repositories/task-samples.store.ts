import { failureReason, TERMINAL_STATUSES, type TaskEndedRecord, type TaskStatus } from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { json, type Sql, type SqlTransaction } from '../sql';
import { rollupsOf, type RolledSample, type Rollups, type RollupWidth } from './sample-rollups';

// A task's sample: its record, its tool calls by tool name, and the calls its CLI's permission
// rules refused, by tool name (none when not given).
export type TaskSample = TaskEndedRecord & TaskActivity;

// What a task's stored events say of it, by tool name.
export interface TaskActivity {
  toolCalls: Record<string, number>;
  permissionDenials?: Record<string, number>;
}

// A sample just stored, with its end and durations as PostgreSQL stored them (ms; null when it
// never started): what the rollups, the Prometheus series and the anomaly check use.
export type StoredSample = RolledSample<TaskSample>;

// A record the metrics service could not store, and why.
export interface ParkedRecord {
  id: string;
  body: string;
  reason: string;
}

export type SampleStorage = 'timescale' | 'partitions';

export { ROLLUP_WIDTHS, type RollupWidth } from './sample-rollups';

// Partitions are named after their UTC day: task_samples_20261206.
const PARTITION = /^task_samples_(\d{4})(\d{2})(\d{2})$/;
const DAY_MS = 86_400_000;

// The time series of ended tasks (docs/observability.md): samples and their rollups, written by
// the metrics service alone, with node-postgres (a partitioned table is not a Prisma model; and
// a batch is one statement).
export class TaskSamples {
  private readonly sql: Sql;

  constructor(prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // The tasks' tool calls and permission denials by tool name, counted from their stored events
  // (`tool.use`; the `result` events' permissionDenials), in one statement.
  async activity(taskIds: readonly string[]): Promise<Map<string, Required<TaskActivity>>> {
    const activity = new Map<string, Required<TaskActivity>>(
      taskIds.map((id) => [id, { toolCalls: {}, permissionDenials: {} }]),
    );
    if (taskIds.length === 0) return activity;
    const rows = await this.sql.query<{
      taskId: string;
      denied: boolean;
      tool: string;
      count: number;
    }>(Prisma.sql`
      WITH e AS (
        SELECT task_id, type, data FROM task_events
        WHERE task_id = ANY(${[...taskIds]}::text[]) AND type IN ('tool.use', 'result'))
      SELECT task_id AS "taskId", false AS denied, data->>'name' AS tool, count(*)::int AS count
      FROM e WHERE type = 'tool.use' AND data->>'name' IS NOT NULL
      GROUP BY 1, 3
      UNION ALL
      SELECT task_id, true, d->>'tool', count(*)::int
      FROM e CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(data->'permissionDenials') = 'array' THEN data->'permissionDenials' ELSE '[]' END) d
      WHERE type = 'result' AND d->>'tool' IS NOT NULL
      GROUP BY 1, 3`);
    for (const row of rows) {
      const task = activity.get(row.taskId);
      if (task) (row.denied ? task.permissionDenials : task.toolCalls)[row.tool] = row.count;
    }
    return activity;
  }

  // Stores the samples not stored yet (a task's sample is its id and end time) and adds those,
  // and only those, to the rollups — in one transaction, so a sample and its sums are stored
  // together or not at all, and a sample stored twice is counted once. Returns the samples that
  // were new (by task id).
  // A rollup's bucket older than its width's retention (`rollupsSince`, as the upkeep prunes
  // them) is not made: it would be pruned before the rest of its samples arrived.
  // Two statements: the samples' INSERT says which were new, and their rollups are summed here
  // and upserted once per key. Summing the histograms in SQL (an aggregate of array additions,
  // per sample and width) was most of PostgreSQL's time (docs/benchmarks.md, issue 17).
  async store(
    samples: readonly TaskSample[],
    rollupsSince: Partial<Record<RollupWidth, Date>> = {},
  ): Promise<StoredSample[]> {
    if (samples.length === 0) return [];
    // One of each (task, end): the first.
    const unique = new Map<string, TaskSample>();
    for (const sample of samples) {
      const key = sampleKey(sample.taskId, sample.finishedAt);
      if (!unique.has(key)) unique.set(key, sample);
    }
    const incoming = [...unique.values()];
    return this.sql.transaction(async (tx) => {
      // The batch as one JSON parameter, read by json_to_recordset: JSON.stringify is native
      // code, where node-postgres escaped 16 arrays' elements one by one in JavaScript — the
      // largest part of the service's time to store a batch (docs/benchmarks.md).
      const inserted = await tx.query<{
        taskId: string;
        finishedMs: number;
        queueMs: number | null;
        runMs: number | null;
      }>(Prisma.sql`
        INSERT INTO task_samples (
          finished_at, task_id, project, profile, status, reason, attempts, created_at, started_at,
          queue_ms, run_ms, cost_usd, input_tokens, output_tokens, cache_read_tokens,
          cache_creation_tokens, num_turns, tool_calls, permission_denials)
        SELECT "finishedAt", "taskId", project, profile, status, reason, attempts, "createdAt", "startedAt",
          CASE WHEN "startedAt" IS NOT NULL
            THEN greatest(0, round(extract(epoch FROM "startedAt" - "createdAt") * 1000))::int END,
          CASE WHEN "startedAt" IS NOT NULL
            THEN greatest(0, round(extract(epoch FROM "finishedAt" - "startedAt") * 1000))::int END,
          "costUsd", "inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "numTurns",
          coalesce("toolCalls", '{}'::jsonb), coalesce("permissionDenials", '{}'::jsonb)
        FROM json_to_recordset(${JSON.stringify(incoming)}::json) AS r(
          "finishedAt" timestamptz, "taskId" text, project text, profile text, status text, reason text,
          attempts int, "createdAt" timestamptz, "startedAt" timestamptz, "costUsd" float8,
          "inputTokens" bigint, "outputTokens" bigint, "cacheReadTokens" bigint,
          "cacheCreationTokens" bigint, "numTurns" int, "toolCalls" jsonb, "permissionDenials" jsonb)
        ON CONFLICT DO NOTHING
        RETURNING task_id AS "taskId", (extract(epoch FROM finished_at) * 1000)::float8 AS "finishedMs",
          queue_ms AS "queueMs", run_ms AS "runMs"`);
      if (inserted.length === 0) return [];
      const stored: StoredSample[] = [];
      for (const row of inserted) {
        const sample = unique.get(sampleKey(row.taskId, row.finishedMs));
        if (sample)
          stored.push({ sample, finishedMs: row.finishedMs, queueMs: row.queueMs, runMs: row.runMs });
      }
      await this.addRollups(tx, rollupsOf(stored, rollupsSince));
      return stored;
    });
  }

  private async addRollups(tx: SqlTransaction, { rollups, tools, projects }: Rollups): Promise<void> {
    const of = <T, V>(rows: readonly T[], value: (row: T) => V) => rows.map(value);
    // Histograms travel as array literals ('{0,2,1}'): they differ in length. Times as ISO text:
    // node-postgres formats a Date in the local zone, several times slower.
    const literal = (hist: readonly number[]) => `{${hist.join(',')}}`;
    await tx.query(Prisma.sql`
      WITH rolled AS (
        INSERT INTO task_rollups (
          width, bucket, project, profile, status, reason, tasks, cost_usd, input_tokens,
          output_tokens, cache_read_tokens, cache_creation_tokens, num_turns, tool_calls,
          queue_count, queue_ms_sum, queue_hist, run_count, run_ms_sum, run_hist)
        SELECT width, bucket, project, profile, status, reason, tasks, cost_usd, input_tokens,
          output_tokens, cache_read_tokens, cache_creation_tokens, num_turns, tool_calls,
          queue_count, queue_ms_sum, queue_hist::bigint[], run_count, run_ms_sum, run_hist::bigint[]
        FROM unnest(
          ${of(rollups, (r) => r.width)}::text[], ${of(rollups, (r) => r.bucket.toISOString())}::timestamptz[],
          ${of(rollups, (r) => r.project)}::text[], ${of(rollups, (r) => r.profile)}::text[],
          ${of(rollups, (r) => r.status)}::text[], ${of(rollups, (r) => r.reason)}::text[],
          ${of(rollups, (r) => r.tasks)}::bigint[], ${of(rollups, (r) => r.costUsd)}::float8[],
          ${of(rollups, (r) => r.inputTokens)}::bigint[], ${of(rollups, (r) => r.outputTokens)}::bigint[],
          ${of(rollups, (r) => r.cacheReadTokens)}::bigint[],
          ${of(rollups, (r) => r.cacheCreationTokens)}::bigint[],
          ${of(rollups, (r) => r.numTurns)}::bigint[], ${of(rollups, (r) => r.toolCalls)}::bigint[],
          ${of(rollups, (r) => r.queueCount)}::bigint[], ${of(rollups, (r) => r.queueMsSum)}::float8[],
          ${of(rollups, (r) => literal(r.queueHist))}::text[], ${of(rollups, (r) => r.runCount)}::bigint[],
          ${of(rollups, (r) => r.runMsSum)}::float8[], ${of(rollups, (r) => literal(r.runHist))}::text[]
        ) AS r(width, bucket, project, profile, status, reason, tasks, cost_usd, input_tokens,
          output_tokens, cache_read_tokens, cache_creation_tokens, num_turns, tool_calls,
          queue_count, queue_ms_sum, queue_hist, run_count, run_ms_sum, run_hist)
        ON CONFLICT (width, bucket, project, profile, status, reason) DO UPDATE SET
          ${added('task_rollups', [...SUMMED, 'num_turns', 'tool_calls', 'queue_count', 'queue_ms_sum'])},
          queue_hist = ${addCounts('task_rollups', 'queue_hist')},
          run_hist = ${addCounts('task_rollups', 'run_hist')}
        RETURNING 1
      ),
      per_project AS (
        INSERT INTO task_project_rollups (
          width, bucket, project, tasks, cost_usd, input_tokens, output_tokens, cache_read_tokens,
          cache_creation_tokens, run_count, run_ms_sum, run_hist, tools)
        SELECT width, bucket, project, tasks, cost_usd, input_tokens, output_tokens,
          cache_read_tokens, cache_creation_tokens, run_count, run_ms_sum, run_hist::bigint[], tools
        FROM unnest(
          ${of(projects, (r) => r.width)}::text[], ${of(projects, (r) => r.bucket.toISOString())}::timestamptz[],
          ${of(projects, (r) => r.project)}::text[], ${of(projects, (r) => r.tasks)}::bigint[],
          ${of(projects, (r) => r.costUsd)}::float8[], ${of(projects, (r) => r.inputTokens)}::bigint[],
          ${of(projects, (r) => r.outputTokens)}::bigint[],
          ${of(projects, (r) => r.cacheReadTokens)}::bigint[],
          ${of(projects, (r) => r.cacheCreationTokens)}::bigint[],
          ${of(projects, (r) => r.runCount)}::bigint[], ${of(projects, (r) => r.runMsSum)}::float8[],
          ${of(projects, (r) => literal(r.runHist))}::text[],
          ${of(projects, (r) => JSON.stringify(r.tools))}::jsonb[]
        ) AS r(width, bucket, project, tasks, cost_usd, input_tokens, output_tokens,
          cache_read_tokens, cache_creation_tokens, run_count, run_ms_sum, run_hist, tools)
        ON CONFLICT (width, bucket, project) DO UPDATE SET
          ${added('task_project_rollups', SUMMED)},
          run_hist = ${addCounts('task_project_rollups', 'run_hist')},
          tools = (
            SELECT coalesce(jsonb_object_agg(t.key, t.calls), '{}')
            FROM (
              SELECT key, sum(value::bigint) AS calls
              FROM (SELECT * FROM jsonb_each_text(task_project_rollups.tools)
                    UNION ALL SELECT * FROM jsonb_each_text(excluded.tools)) added
              GROUP BY key
            ) t)
        RETURNING 1
      )
      INSERT INTO task_tool_rollups (width, bucket, project, profile, tool, calls)
      SELECT * FROM unnest(
        ${of(tools, (t) => t.width)}::text[], ${of(tools, (t) => t.bucket.toISOString())}::timestamptz[],
        ${of(tools, (t) => t.project)}::text[], ${of(tools, (t) => t.profile)}::text[],
        ${of(tools, (t) => t.tool)}::text[], ${of(tools, (t) => t.calls)}::bigint[])
      ON CONFLICT (width, bucket, project, profile, tool) DO UPDATE SET
        calls = task_tool_rollups.calls + excluded.calls`);
  }

  async park(records: readonly ParkedRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.sql.query(Prisma.sql`
      INSERT INTO metric_records_parked (id, body, reason)
      SELECT id, body, reason FROM jsonb_to_recordset(${json(records)}::jsonb) AS r(id text, body text, reason text)
      ON CONFLICT (id) DO NOTHING`);
  }

  async parked(limit = 100): Promise<(ParkedRecord & { parkedAt: Date })[]> {
    return this.sql.query(Prisma.sql`
      SELECT id, body, reason, parked_at AS "parkedAt" FROM metric_records_parked
      ORDER BY parked_at DESC, id DESC LIMIT ${limit}`);
  }

  // Ended tasks created since `since` and ended before `endedBefore` that have no sample (their
  // record was lost on the way), as their records, oldest ending first.
  async unsampled(since: Date, endedBefore: Date, limit: number): Promise<TaskEndedRecord[]> {
    const rows = await this.sql.query<{
      id: string;
      project: string;
      profile: string;
      status: TaskStatus;
      error: string | null;
      attempts: number;
      createdAt: Date;
      startedAt: Date | null;
      finishedAt: Date;
      costUsd: number | null;
      inputTokens: number | null;
      outputTokens: number | null;
      cacheReadTokens: number | null;
      cacheCreationTokens: number | null;
      numTurns: number | null;
    }>(Prisma.sql`
      SELECT t.id, p.slug AS project, ap.name AS profile, t.status::text AS status, t.error,
        t.attempts, t.created_at AS "createdAt", t.started_at AS "startedAt",
        t.finished_at AS "finishedAt", t.cost_usd AS "costUsd", t.input_tokens AS "inputTokens",
        t.output_tokens AS "outputTokens", t.cache_read_tokens AS "cacheReadTokens",
        t.cache_creation_tokens AS "cacheCreationTokens", t.num_turns AS "numTurns"
      FROM tasks t
      JOIN projects p ON p.id = t.project_id
      JOIN agent_profiles ap ON ap.id = t.profile_id
      WHERE t.status::text = ANY(${[...TERMINAL_STATUSES]}::text[])
        AND t.created_at >= ${since} AND t.finished_at < ${endedBefore}
        AND NOT EXISTS (
          SELECT 1 FROM task_samples s WHERE s.task_id = t.id AND s.finished_at = t.finished_at)
      ORDER BY t.finished_at
      LIMIT ${limit}`);
    return rows.map((row) => ({
      kind: 'task.ended',
      taskId: row.id,
      project: row.project,
      profile: row.profile,
      status: row.status,
      reason: failureReason(row.status, row.error),
      attempts: row.attempts,
      createdAt: row.createdAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      finishedAt: row.finishedAt.toISOString(),
      costUsd: row.costUsd,
      inputTokens: row.inputTokens,
      outputTokens: row.outputTokens,
      cacheReadTokens: row.cacheReadTokens,
      cacheCreationTokens: row.cacheCreationTokens,
      numTurns: row.numTurns,
    }));
  }

  // Which storage the migration made: a TimescaleDB hypertable, or native partitions.
  async storage(): Promise<SampleStorage> {
    const [row] = await this.sql.query<{ partitioned: boolean }>(Prisma.sql`
      SELECT EXISTS (
        SELECT 1 FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
        WHERE c.relname = 'task_samples' AND c.relnamespace = current_schema()::regnamespace
      ) AS partitioned`);
    return row?.partitioned ? 'partitions' : 'timescale';
  }

  // The daily partitions of the days from `from` through `through` (UTC), those missing made.
  // A day whose samples are in the default partition already (stored while the service was
  // away) keeps them there: that day gets no partition. Returns the days it could not make.
  async ensurePartitions(from: Date, through: Date): Promise<string[]> {
    const skipped: string[] = [];
    for (let day = startOfDay(from); day <= through.getTime(); day += DAY_MS) {
      const name = partitionName(day);
      const start = new Date(day).toISOString();
      const end = new Date(day + DAY_MS).toISOString();
      try {
        await this.sql.query(
          Prisma.sql`${Prisma.raw(
            `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF "task_samples" FOR VALUES FROM ('${start}') TO ('${end}')`,
          )}`,
        );
      } catch (error) {
        const code = (error as { code?: string }).code;
        // Made at the same moment by another replica (42P07, or 23505 on the catalog's names).
        if (code === '42P07' || code === '23505') continue;
        // 23514: the default partition holds rows of that day.
        if (code !== '23514') throw error;
        skipped.push(name);
      }
    }
    return skipped;
  }

  // Samples that ended before `cutoff` go: whole partitions (a day wholly before it), the
  // default partition's rows one by one; on TimescaleDB, its chunks. Returns the partitions dropped.
  async dropBefore(cutoff: Date, storage: SampleStorage): Promise<string[]> {
    if (storage === 'timescale') {
      await this.sql.query(
        Prisma.sql`SELECT drop_chunks('task_samples', older_than => ${cutoff}::timestamptz)`,
      );
      return [];
    }
    const partitions = await this.sql.query<{ name: string }>(Prisma.sql`
      SELECT c.relname AS name FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class parent ON parent.oid = i.inhparent
      WHERE parent.relname = 'task_samples' AND parent.relnamespace = current_schema()::regnamespace`);
    const dropped: string[] = [];
    for (const { name } of partitions) {
      const day = PARTITION.exec(name);
      if (!day) continue;
      const end = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) + DAY_MS;
      if (end > cutoff.getTime()) continue;
      await this.sql.query(Prisma.sql`${Prisma.raw(`DROP TABLE IF EXISTS "${name}"`)}`);
      dropped.push(name);
    }
    await this.sql.query(Prisma.sql`DELETE FROM task_samples_default WHERE finished_at < ${cutoff}`);
    return dropped;
  }

  // Rollups of `width` for buckets that started before `cutoff` go.
  async pruneRollups(width: RollupWidth, cutoff: Date): Promise<void> {
    await this.sql.query(Prisma.sql`DELETE FROM task_rollups WHERE width = ${width} AND bucket < ${cutoff}`);
    await this.sql.query(
      Prisma.sql`DELETE FROM task_tool_rollups WHERE width = ${width} AND bucket < ${cutoff}`,
    );
    await this.sql.query(
      Prisma.sql`DELETE FROM task_project_rollups WHERE width = ${width} AND bucket < ${cutoff}`,
    );
  }
}

function startOfDay(at: Date): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
}

function partitionName(day: number): string {
  return `task_samples_${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

// The columns both rollups add to as plain sums.
const SUMMED = [
  'tasks',
  'cost_usd',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_creation_tokens',
  'run_count',
  'run_ms_sum',
] as const;

// `column = stored + incoming, …` for an upsert's SET (names from this file, never input).
function added(table: 'task_rollups' | 'task_project_rollups', columns: readonly string[]): Prisma.Sql {
  return Prisma.raw(
    columns.map((column) => `${column} = ${table}.${column} + excluded.${column}`).join(', '),
  );
}

// A stored histogram plus the incoming one, element by element (the shorter padded with zeros):
// hangar_add_counts written inline, which PostgreSQL runs in a third of the function's time
// (a SQL function with a subquery is not inlined, and each call sets one up).
function addCounts(
  table: 'task_rollups' | 'task_project_rollups',
  column: 'queue_hist' | 'run_hist',
): Prisma.Sql {
  return Prisma.raw(`ARRAY(
            SELECT coalesce(stored, 0) + coalesce(added, 0)
            FROM unnest(${table}.${column}, excluded.${column}) WITH ORDINALITY AS u(stored, added, i)
            ORDER BY i)`);
}

// A sample's identity as PostgreSQL compares it: its task and its end in ms (as a record says it,
// or as PostgreSQL returns it); a time JS cannot read keeps its text (PostgreSQL refuses it, and
// the record is parked).
function sampleKey(taskId: string, finishedAt: string | number): string {
  const at = typeof finishedAt === 'number' ? finishedAt : Date.parse(finishedAt);
  return `${taskId} ${Number.isNaN(at) ? finishedAt : at}`;
}
