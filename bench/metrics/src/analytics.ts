import os from 'node:os';
import { Client } from 'pg';
import { DURATION_BOUNDS_MS, type AnalyticsBucket } from '@hangar/contracts';
import { AnalyticsRepository, createPrismaClient, ROLLUP_WIDTHS, TaskSamples } from '@hangar/db';
import { createTestDatabase } from '@hangar/testing';
import {
  COMPLETED_SHARE,
  expand,
  FAILED_SHARE,
  FAILURE_REASONS,
  megabytes,
  PROFILES,
  PROJECTS,
  quantile,
  thousands,
  TOOLS,
} from './common';

const DAY_MS = 86_400_000;
// The history filled: a year, every sample in an hour rollup (the metrics service keeps those
// METRICS_HOUR_ROLLUP_DAYS, 400 by default) and a day one; the minute rollups of the last
// METRICS_MINUTE_ROLLUP_DAYS (14 by default: services/metrics/src/config.ts), as the service's
// `rollupsSince` leaves them.
const HISTORY_DAYS = 365;
const MINUTE_ROLLUP_DAYS = 14;
const WARM_UPS = 3;
const TARGET_P95_MS = 100;

export interface AnalyticsOptions {
  samples: number;
  keep: boolean;
  repeat: number;
  connections: number;
  // A database kept by an earlier --keep: measured as it is, not filled (nor dropped).
  database?: string;
}

interface Query {
  label: string;
  days: number;
  bucket: AnalyticsBucket;
}

// The dashboard's ranges: the default week, a day to the hour, a month and a year by day, a
// quarter to the hour.
const QUERIES: readonly Query[] = [
  { label: 'a day by hour', days: 1, bucket: 'hour' },
  { label: '7 days by day', days: 7, bucket: 'day' },
  { label: '30 days by day', days: 30, bucket: 'day' },
  { label: '365 days by day', days: 365, bucket: 'day' },
  { label: '90 days by hour', days: 90, bucket: 'hour' },
];

// A fresh migrated database filled with a year of samples and their rollups in SQL (a UTC day
// per statement, --connections days at a time), then AnalyticsRepository.summarize() — what
// GET /api/v1/analytics runs — timed over the dashboard's ranges, for the busiest project and
// for every project.
export async function analytics(options: AnalyticsOptions): Promise<void> {
  const { keep, repeat } = options;
  const database = options.database
    ? { url: options.database, drop: async () => undefined }
    : await createTestDatabase('bench-metrics-analytics');
  if (keep) console.error(`  keeping the database (--keep): ${database.url}`);
  const prisma = createPrismaClient(database.url);
  const db = new Client({ connectionString: database.url });
  await db.connect();
  try {
    const filled = options.database ? undefined : await prepare(database.url, prisma, db, options);
    const sizes = (
      await db.query<
        Record<'samples' | 'partitions' | 'rollups' | 'toolRollups' | 'projectRollups', string>
      >(`
        SELECT (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('task_samples')) AS samples,
               (SELECT count(*) FROM pg_partition_tree('task_samples') WHERE isleaf) AS partitions,
               pg_total_relation_size('task_rollups') AS rollups,
               pg_total_relation_size('task_tool_rollups') AS "toolRollups",
               pg_total_relation_size('task_project_rollups') AS "projectRollups"`)
    ).rows[0]!;
    const widths = await db.query<{ width: string; rollups: number; tools: number; projects: number }>(
      `
      SELECT w.width,
        (SELECT count(*)::int FROM task_rollups r WHERE r.width = w.width) AS rollups,
        (SELECT count(*)::int FROM task_tool_rollups t WHERE t.width = w.width) AS tools,
        (SELECT count(*)::int FROM task_project_rollups p WHERE p.width = w.width) AS projects
      FROM unnest($1::text[]) AS w(width)`,
      [[...ROLLUP_WIDTHS]],
    );
    const stored = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM task_samples')).rows[0]?.n;
    const { rows: versions } = await db.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    );
    console.log(
      `\nbench/metrics analytics on ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}; PostgreSQL ${versions[0]?.version ?? '?'} (native partitions)`,
    );
    console.log(
      `  ${thousands(stored ?? 0)} samples ending over the last ${HISTORY_DAYS} days (${PROJECTS.length} projects × ${PROFILES.length} profiles; ${Math.round(COMPLETED_SHARE * 100)}% COMPLETED, ${Math.round(FAILED_SHARE * 100)}% FAILED by ${FAILURE_REASONS.length} reasons, the rest CANCELLED; ${TOOLS.length} tools), with their rollups: minute for the last ${MINUTE_ROLLUP_DAYS} days, hour, day and month for all, each also per project`,
    );
    console.log(
      filled
        ? `  partitions: ${sizes.partitions} days made in ${(filled.partitionsMs / 1000).toFixed(1)} s; fill: ${(filled.fillMs / 1000).toFixed(0)} s (${thousands((options.samples / filled.fillMs) * 1000)} samples/s with their rollups, ${options.connections} connections); VACUUM (ANALYZE) after it: ${(filled.vacuumMs / 1000).toFixed(0)} s`
        : `  the database given (--database), as it is: ${sizes.partitions} partitions`,
    );
    console.log(
      `  sizes (pg_total_relation_size, with indexes): task_samples ${megabytes(Number(sizes.samples))}, task_rollups ${megabytes(Number(sizes.rollups))}, task_tool_rollups ${megabytes(Number(sizes.toolRollups))}, task_project_rollups ${megabytes(Number(sizes.projectRollups))}`,
    );
    console.log(
      `  rollup rows by width: ${widths.rows.map((row) => `${row.width} ${thousands(row.rollups)} (tools ${thousands(row.tools)}, per project ${thousands(row.projects)})`).join(', ')}`,
    );
    if (keep) console.log(`  kept (--keep): ${database.url}`);

    const repository = new AnalyticsRepository(prisma);
    const busiest = PROJECTS[0]![0];
    const everyProject = (await db.query<{ id: string }>('SELECT id FROM projects')).rows.map(
      (row) => row.id,
    );
    console.log(
      `\nAnalyticsRepository.summarize(), to = now, ${repeat} runs after ${WARM_UPS} warm-ups each (a run that fails counts with the time it took); target (issue 17): p95 ≤ ${TARGET_P95_MS} ms\n`,
    );
    console.log('| range | projects | tasks in it | p50 | p95 | max | failed |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    const failures = new Map<string, number>();
    for (const query of QUERIES)
      for (const [scope, ids] of [
        [`${busiest} (${PROJECTS[0]![1]}% of the tasks)`, [`bench-${busiest}`]],
        [`all ${everyProject.length} projects`, everyProject],
      ] as const) {
        const ms: number[] = [];
        let tasks: number | undefined;
        let failed = 0;
        for (let run = 0; run < WARM_UPS + repeat; run += 1) {
          const to = new Date();
          const started = performance.now();
          try {
            const summary = await repository.summarize({
              projectIds: ids,
              from: new Date(to.getTime() - query.days * DAY_MS),
              to,
              bucket: query.bucket,
            });
            tasks = summary.totals.tasks;
          } catch (error) {
            // What the gateway would answer 500 for.
            if (run >= WARM_UPS) failed += 1;
            failures.set(failure(error), (failures.get(failure(error)) ?? 0) + 1);
          }
          if (run >= WARM_UPS) ms.push(performance.now() - started);
        }
        console.log(
          `| ${query.label} | ${scope} | ${tasks === undefined ? '—' : thousands(tasks)} | ${quantile(ms, 0.5).toFixed(1)} ms | ${quantile(ms, 0.95).toFixed(1)} ms | ${Math.max(...ms).toFixed(1)} ms | ${failed} of ${repeat} |`,
        );
      }
    for (const [message, count] of failures)
      console.log(`\n  ${count} run(s), warm-ups included, failed: ${message}`);
    if (keep && !options.database)
      console.log(
        `\nkept the database (--keep): ${database.url}\n  measure it again: ./scripts/bench metrics analytics --database ${database.url}`,
      );
  } finally {
    await db.end();
    await prisma.$disconnect();
    if (!keep) await database.drop();
  }
}

// An error as one line (Prisma's messages end with the cause, after where it was called), its
// numbers (times, ids) as # so that alike errors are counted together.
function failure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n').findLast((part) => part.trim() !== '') ?? '(no message)';
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${line.trim().replace(/\d+/g, '#')}`;
}

// The year's partitions, the projects, the samples and their rollups; then what autovacuum would
// do after these inserts, done now so that it does not run during the timings.
async function prepare(
  url: string,
  prisma: ReturnType<typeof createPrismaClient>,
  db: Client,
  { samples, connections }: AnalyticsOptions,
): Promise<{ partitionsMs: number; fillMs: number; vacuumMs: number }> {
  const now = Date.now();
  const from = now - HISTORY_DAYS * DAY_MS;
  const partitionsStarted = performance.now();
  const skipped = await new TaskSamples(prisma).ensurePartitions(new Date(from), new Date(now + 2 * DAY_MS));
  if (skipped.length > 0) throw new Error(`no partition for ${skipped.join(', ')}`);
  const partitionsMs = performance.now() - partitionsStarted;
  for (const [slug] of PROJECTS)
    await db.query('INSERT INTO projects (id, slug, name) VALUES ($1, $2, $3)', [
      `bench-${slug}`,
      slug,
      slug,
    ]);
  const fillStarted = performance.now();
  await fill(url, { samples, from, now, connections });
  console.error('  rolling the days up by month and every width by project …');
  await db.query(DERIVE_ROLLUPS);
  const fillMs = performance.now() - fillStarted;
  const vacuumStarted = performance.now();
  await db.query('VACUUM (ANALYZE) task_samples, task_rollups, task_tool_rollups, task_project_rollups');
  return { partitionsMs, fillMs, vacuumMs: performance.now() - vacuumStarted };
}

// The samples of [from, now), a UTC day per chunk (each its share of `samples`), then the
// chunk's rollups from its rows: per minute (those at or after the minute rollups' retention),
// per hour, and per day summed from the hours — with the store's functions
// (hangar_sum_counts of hangar_count_in(width_bucket(ms, DURATION_BOUNDS_MS))), so each rollup
// row is what TaskSamples.store would have made of the same samples. A chunk lies within one
// UTC day: none of its buckets is in another chunk.
async function fill(
  url: string,
  { samples, from, now, connections }: { samples: number; from: number; now: number; connections: number },
): Promise<void> {
  const chunks: { lo: number; hi: number; count: number; index: number }[] = [];
  let assigned = 0;
  for (let lo = from; lo < now;) {
    const hi = Math.min(now, (Math.floor(lo / DAY_MS) + 1) * DAY_MS);
    const count = Math.round((samples * (hi - from)) / (now - from)) - assigned;
    chunks.push({ lo, hi, count, index: chunks.length });
    assigned += count;
    lo = hi;
  }
  const minuteSince = new Date(now - MINUTE_ROLLUP_DAYS * DAY_MS);
  const parameters = {
    projects: expand(PROJECTS),
    profiles: expand(PROFILES),
    reasons: expand(FAILURE_REASONS),
    bounds: [...DURATION_BOUNDS_MS],
  };
  let next = 0;
  let done = 0;
  const started = performance.now();
  const worker = async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) {
        await client.query(INSERT_SAMPLES, [
          new Date(chunk.lo),
          new Date(chunk.hi),
          chunk.count,
          chunk.index,
          parameters.projects,
          parameters.profiles,
          parameters.reasons,
          COMPLETED_SHARE,
          COMPLETED_SHARE + FAILED_SHARE,
        ]);
        await client.query(INSERT_ROLLUPS, [
          new Date(chunk.lo),
          new Date(chunk.hi),
          parameters.bounds,
          minuteSince,
        ]);
        done += 1;
        if (done % 30 === 0 || done === chunks.length) {
          const seconds = (performance.now() - started) / 1000;
          console.error(
            `  filled ${done}/${chunks.length} days in ${seconds.toFixed(0)} s (about ${((seconds / done) * (chunks.length - done)).toFixed(0)} s to go)`,
          );
        }
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
}

// A chunk's samples ($3 of them, ending in [$1, $2)), as a lifecycle would have recorded them:
// projects, profiles and failure reasons picked from weighted lists; run times log-normal around
// 45 s (timeouts at 30 min), queue waits around 0.8 s; half the cancelled tasks never started;
// tokens, cost and tool calls by the turns, which go with the run time.
const INSERT_SAMPLES = `
  INSERT INTO task_samples (
    finished_at, task_id, project, profile, status, reason, attempts, created_at, started_at,
    queue_ms, run_ms, cost_usd, input_tokens, output_tokens, cache_read_tokens,
    cache_creation_tokens, num_turns, tool_calls)
  SELECT finished_at, task_id, project, profile, status, reason, attempts,
    finished_at - (coalesce(run_ms, 0) + queue_ms) * interval '1 millisecond',
    CASE WHEN run_ms IS NOT NULL THEN finished_at - run_ms * interval '1 millisecond' END,
    CASE WHEN run_ms IS NOT NULL THEN queue_ms END,
    run_ms,
    round(((input * 3 + output * 15 + input * 4 * 0.3 + input / 5 * 3.75) / 1e6)::numeric, 6)::float8,
    input, output, input * 4, input / 5, turns,
    CASE WHEN turns IS NULL THEN '{}'::jsonb ELSE jsonb_strip_nulls(jsonb_build_object(${TOOLS.map(
      ([tool, share], i) =>
        `'${tool}', nullif(floor(turns * ${share} * (u[${(i % 8) + 1}] * 0.5 + 0.5))::int, 0)`,
    ).join(', ')})) END
  FROM (
    SELECT *, CASE WHEN turns IS NOT NULL THEN turns * (2000 + floor(u[7] * 6000))::bigint END AS input,
      CASE WHEN turns IS NOT NULL THEN turns * (150 + floor(u[8] * 700))::bigint END AS output
    FROM (
      SELECT *, CASE WHEN run_ms IS NOT NULL THEN least(80, 1 + run_ms / 8000) END AS turns
      FROM (
        SELECT finished_at, task_id, project, profile, status, reason, attempts, u,
          CASE WHEN NOT started THEN NULL
            WHEN reason = 'timeout' THEN 1800000 + floor(u[3] * 5000)::int
            ELSE least(10800000, round(exp(ln(45000) + 1.1 * (u[3] + u[4] + u[5] - 1.5) * 2)))::int
          END AS run_ms,
          least(3600000, round(exp(ln(800) + 1.5 * (u[6] + u[7] + u[8] - 1.5) * 2)))::int AS queue_ms
        FROM (
          SELECT finished_at, task_id, u, project, profile, attempts,
            CASE WHEN u[1] < $8 THEN 'COMPLETED' WHEN u[1] < $9 THEN 'FAILED' ELSE 'CANCELLED' END AS status,
            CASE WHEN u[1] < $8 THEN NULL
              WHEN u[1] < $9 THEN ($7::text[])[1 + floor(u[2] * cardinality($7::text[]))::int]
              ELSE 'cancelled' END AS reason,
            NOT (u[1] >= $9 AND u[2] < 0.5) AS started
          FROM (
            SELECT date_trunc('milliseconds', $1::timestamptz + random() * ($2::timestamptz - $1::timestamptz))
              AS finished_at,
              'bench-' || $4::int || '-' || g AS task_id,
              ($5::text[])[1 + floor(random() * cardinality($5::text[]))::int] AS project,
              ($6::text[])[1 + floor(random() * cardinality($6::text[]))::int] AS profile,
              CASE WHEN random() < 0.05 THEN 2 ELSE 1 END AS attempts,
              ARRAY[random(), random(), random(), random(), random(), random(), random(), random()] AS u
            FROM generate_series(1, $3::int) AS g
            OFFSET 0
          ) drawn
        ) outcome
      ) timed
    ) turned
  ) sample`;

// The store's sums of a set of samples `s` (the rollup's columns after width and bucket).
const SUMS = `
  count(*) AS tasks, coalesce(sum(s.cost_usd), 0) AS cost_usd,
  coalesce(sum(s.input_tokens), 0) AS input_tokens, coalesce(sum(s.output_tokens), 0) AS output_tokens,
  coalesce(sum(s.cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(s.cache_creation_tokens), 0) AS cache_creation_tokens,
  coalesce(sum(s.num_turns), 0) AS num_turns,
  coalesce(sum((SELECT sum(value::bigint) FROM jsonb_each_text(s.tool_calls))), 0) AS tool_calls,
  count(s.queue_ms) AS queue_count, coalesce(sum(s.queue_ms), 0) AS queue_ms_sum,
  hangar_sum_counts(hangar_count_in(width_bucket(s.queue_ms, $3::int[]))) AS queue_hist,
  count(s.run_ms) AS run_count, coalesce(sum(s.run_ms), 0) AS run_ms_sum,
  hangar_sum_counts(hangar_count_in(width_bucket(s.run_ms, $3::int[]))) AS run_hist`;

const ROLLUP_COLUMNS = `(
  width, bucket, project, profile, status, reason, tasks, cost_usd, input_tokens, output_tokens,
  cache_read_tokens, cache_creation_tokens, num_turns, tool_calls, queue_count, queue_ms_sum,
  queue_hist, run_count, run_ms_sum, run_hist)`;

// The rollups of the samples ending in [$1, $2): minutes from $4 on, every hour, the days from
// the hours.
const INSERT_ROLLUPS = `
  WITH s AS MATERIALIZED (
    SELECT * FROM task_samples WHERE finished_at >= $1::timestamptz AND finished_at < $2::timestamptz
  ),
  hours AS MATERIALIZED (
    SELECT date_trunc('hour', s.finished_at, 'UTC') AS bucket, s.project, s.profile, s.status,
      coalesce(s.reason, '') AS reason, ${SUMS}
    FROM s GROUP BY 1, 2, 3, 4, 5
  ),
  minute_rows AS (
    INSERT INTO task_rollups ${ROLLUP_COLUMNS}
    SELECT 'minute', date_trunc('minute', s.finished_at, 'UTC'), s.project, s.profile, s.status,
      coalesce(s.reason, ''), ${SUMS}
    FROM s WHERE s.finished_at >= $4::timestamptz GROUP BY 2, 3, 4, 5, 6
  ),
  hour_rows AS (
    INSERT INTO task_rollups ${ROLLUP_COLUMNS} SELECT 'hour', hours.* FROM hours
  ),
  day_rows AS (
    INSERT INTO task_rollups ${ROLLUP_COLUMNS}
    SELECT 'day', date_trunc('day', h.bucket, 'UTC'), h.project, h.profile, h.status, h.reason,
      sum(h.tasks), sum(h.cost_usd), sum(h.input_tokens), sum(h.output_tokens),
      sum(h.cache_read_tokens), sum(h.cache_creation_tokens), sum(h.num_turns), sum(h.tool_calls),
      sum(h.queue_count), sum(h.queue_ms_sum), hangar_sum_counts(h.queue_hist), sum(h.run_count),
      sum(h.run_ms_sum), hangar_sum_counts(h.run_hist)
    FROM hours h GROUP BY 2, 3, 4, 5, 6
  ),
  tool_hours AS MATERIALIZED (
    SELECT date_trunc('hour', s.finished_at, 'UTC') AS bucket, s.project, s.profile, t.key AS tool,
      sum(t.value::bigint) AS calls
    FROM s CROSS JOIN LATERAL jsonb_each_text(s.tool_calls) t GROUP BY 1, 2, 3, 4
  ),
  tool_minute_rows AS (
    INSERT INTO task_tool_rollups (width, bucket, project, profile, tool, calls)
    SELECT 'minute', date_trunc('minute', s.finished_at, 'UTC'), s.project, s.profile, t.key,
      sum(t.value::bigint)
    FROM s CROSS JOIN LATERAL jsonb_each_text(s.tool_calls) t
    WHERE s.finished_at >= $4::timestamptz GROUP BY 2, 3, 4, 5
  ),
  tool_hour_rows AS (
    INSERT INTO task_tool_rollups (width, bucket, project, profile, tool, calls)
    SELECT 'hour', bucket, project, profile, tool, calls FROM tool_hours
  )
  INSERT INTO task_tool_rollups (width, bucket, project, profile, tool, calls)
  SELECT 'day', date_trunc('day', bucket, 'UTC'), project, profile, tool, sum(calls)
  FROM tool_hours GROUP BY 2, 3, 4, 5`;

// The month rows from the days, and every width's rows per project (their run-time histograms
// summed by position, their tools by name): what the store adds sample by sample, as the
// migration that brought these rollups made them from an installation's rollups.
const DERIVE_ROLLUPS = `
  WITH months AS (
    INSERT INTO task_rollups ${ROLLUP_COLUMNS}
    SELECT 'month', date_trunc('month', bucket, 'UTC'), project, profile, status, reason,
      sum(tasks), sum(cost_usd), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
      sum(cache_creation_tokens), sum(num_turns), sum(tool_calls), sum(queue_count),
      sum(queue_ms_sum), hangar_sum_counts(queue_hist), sum(run_count), sum(run_ms_sum),
      hangar_sum_counts(run_hist)
    FROM task_rollups WHERE width = 'day' GROUP BY 2, 3, 4, 5, 6
    RETURNING width, bucket, project, tasks, cost_usd, input_tokens, output_tokens,
      cache_read_tokens, cache_creation_tokens, run_count, run_ms_sum, run_hist
  ),
  tool_months AS (
    INSERT INTO task_tool_rollups (width, bucket, project, profile, tool, calls)
    SELECT 'month', date_trunc('month', bucket, 'UTC'), project, profile, tool, sum(calls)
    FROM task_tool_rollups WHERE width = 'day' GROUP BY 2, 3, 4, 5
    RETURNING width, bucket, project, tool, calls
  ),
  rows AS (
    SELECT width, bucket, project, tasks, cost_usd, input_tokens, output_tokens, cache_read_tokens,
      cache_creation_tokens, run_count, run_ms_sum, run_hist
    FROM task_rollups
    UNION ALL SELECT * FROM months
  ),
  tools AS (
    SELECT width, bucket, project, tool, calls FROM task_tool_rollups UNION ALL SELECT * FROM tool_months
  )
  INSERT INTO task_project_rollups (
    width, bucket, project, tasks, cost_usd, input_tokens, output_tokens, cache_read_tokens,
    cache_creation_tokens, run_count, run_ms_sum, run_hist, tools)
  SELECT s.*, coalesce(h.run_hist, '{}'), coalesce(t.tools, '{}')
  FROM (
    SELECT width, bucket, project, sum(tasks), sum(cost_usd), sum(input_tokens), sum(output_tokens),
      sum(cache_read_tokens), sum(cache_creation_tokens), sum(run_count), sum(run_ms_sum)
    FROM rows GROUP BY 1, 2, 3
  ) s
  LEFT JOIN (
    SELECT width, bucket, project, array_agg(count ORDER BY i) AS run_hist
    FROM (
      SELECT r.width, r.bucket, r.project, u.i, sum(u.count)::bigint AS count
      FROM rows r, unnest(r.run_hist) WITH ORDINALITY AS u(count, i) GROUP BY 1, 2, 3, 4
    ) positions
    GROUP BY 1, 2, 3
  ) h USING (width, bucket, project)
  LEFT JOIN (
    SELECT width, bucket, project, jsonb_object_agg(tool, calls) AS tools
    FROM (SELECT width, bucket, project, tool, sum(calls) AS calls FROM tools GROUP BY 1, 2, 3, 4) by_tool
    GROUP BY 1, 2, 3
  ) t USING (width, bucket, project)`;
