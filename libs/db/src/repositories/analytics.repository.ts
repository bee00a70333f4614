import {
  histogramQuantile,
  TASK_STATUSES,
  type Analytics,
  type AnalyticsBucket,
  type AnalyticsUsage,
  type TaskStatus,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { RollupWidth } from './task-samples.store';

export interface AnalyticsScope {
  projectIds: readonly string[];
  from: Date;
  to: Date;
  bucket: AnalyticsBucket;
}

// A stretch of time read from one width of rollups: its buckets that start in [from, to).
export interface RollupSegment {
  width: RollupWidth;
  from: Date;
  to: Date;
}

const TOP_TOOLS = 10;
const WIDTH_MS: Record<RollupWidth, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const COARSEST_FIRST: readonly RollupWidth[] = ['day', 'hour', 'minute'];

// [from, to) as rollup buckets (UTC): whole days from the per-day rollups, the hours at its ends
// that are not whole days from the per-hour ones, the minutes at its very ends from the
// per-minute ones — a year is ~365 days of rows, not half a million minutes. Only widths no finer
// than `finest` (what the rollups still hold that far back) and no coarser than `coarsest` (the
// buckets asked for: hours cannot come from a day's sums) are used; the range's ends are taken
// to the finest of them (the buckets that overlap the range).
export function rollupSegments(
  from: Date,
  to: Date,
  coarsest: RollupWidth,
  finest: RollupWidth,
): RollupSegment[] {
  let widths = COARSEST_FIRST.slice(COARSEST_FIRST.indexOf(coarsest), COARSEST_FIRST.indexOf(finest) + 1);
  if (widths.length === 0) widths = [coarsest];
  const unit = WIDTH_MS[widths[widths.length - 1]!];
  const start = Math.floor(from.getTime() / unit) * unit;
  const end = Math.ceil(to.getTime() / unit) * unit;
  const split = (lo: number, hi: number, level: number): RollupSegment[] => {
    if (lo >= hi) return [];
    const width = widths[level]!;
    const size = WIDTH_MS[width];
    const first = Math.ceil(lo / size) * size;
    const last = Math.floor(hi / size) * size;
    if (first >= last) return split(lo, hi, level + 1);
    return [
      ...split(lo, first, level + 1),
      { width, from: new Date(first), to: new Date(last) },
      ...split(last, hi, level + 1),
    ];
  };
  return split(start, end, 0);
}

// Sums come back as float8 (exact for counts below 2^53, where bigint would need converting);
// costs are rounded to a millionth of a dollar so float sums do not show their noise.
const USAGE_COLUMNS = Prisma.sql`
  coalesce(sum(r.tasks), 0)::float8 AS tasks,
  round(coalesce(sum(r.cost_usd), 0)::numeric, 6)::float8 AS "costUsd",
  coalesce(sum(r.input_tokens), 0)::float8 AS "inputTokens",
  coalesce(sum(r.output_tokens), 0)::float8 AS "outputTokens",
  coalesce(sum(r.cache_read_tokens), 0)::float8 AS "cacheReadTokens",
  coalesce(sum(r.cache_creation_tokens), 0)::float8 AS "cacheCreationTokens"`;

const TASKS_AND_COST = Prisma.sql`
  sum(r.tasks)::float8 AS tasks,
  round(coalesce(sum(r.cost_usd), 0)::numeric, 6)::float8 AS "costUsd"`;

// The dashboard's numbers (docs/api.md#analytics), read from the metrics service's rollups
// (docs/observability.md), never from the tasks: ended tasks by when they ended, to the minute
// (to the hour, or day, where the per-minute rollups are gone); the tasks still queued or running
// that were created in the range from the tasks, few by nature. One snapshot per call.
export class AnalyticsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async summarize(scope: AnalyticsScope): Promise<Omit<Analytics, 'from' | 'to' | 'bucket'>> {
    return this.prisma.$transaction(
      async (tx) => {
        const slugs = (
          await tx.$queryRaw<{ slug: string }[]>`
            SELECT slug FROM projects WHERE id = ANY(${[...scope.projectIds]}::text[])`
        ).map((row) => row.slug);
        const segments = rollupSegments(
          scope.from,
          scope.to,
          scope.bucket,
          await this.finest(tx, scope.from),
        );
        const rows = Prisma.sql`
          WITH seg(width, lo, hi) AS (
            SELECT * FROM unnest(
              ${segments.map((segment) => segment.width)}::text[],
              ${segments.map((segment) => segment.from.toISOString())}::timestamptz[],
              ${segments.map((segment) => segment.to.toISOString())}::timestamptz[])
          ),
          r AS (
            SELECT r.* FROM task_rollups r
            JOIN seg ON r.width = seg.width AND r.bucket >= seg.lo AND r.bucket < seg.hi
            WHERE r.project = ANY(${slugs}::text[])
          )`;
        const step = `1 ${scope.bucket}`;
        const totals = await tx.$queryRaw<AnalyticsUsage[]>`${rows} SELECT ${USAGE_COLUMNS} FROM r`;
        const perBucket = await tx.$queryRaw<(AnalyticsUsage & { bucket: Date })[]>`
          ${rows},
          buckets AS (
            SELECT generate_series(
              date_trunc(${scope.bucket}, ${scope.from}::timestamptz, 'UTC'),
              ${scope.to}::timestamptz - interval '1 microsecond',
              ${step}::interval
            ) AS bucket
          )
          SELECT buckets.bucket, ${USAGE_COLUMNS}
          FROM buckets
          LEFT JOIN r ON date_trunc(${scope.bucket}, r.bucket, 'UTC') = buckets.bucket
          GROUP BY buckets.bucket
          ORDER BY buckets.bucket`;
        const ended = await tx.$queryRaw<{ status: TaskStatus; count: number }[]>`
          ${rows} SELECT r.status, sum(r.tasks)::float8 AS count FROM r GROUP BY r.status`;
        const active = await tx.$queryRaw<{ status: TaskStatus; count: number }[]>`
          SELECT status::text AS status, count(*)::int AS count FROM tasks
          WHERE project_id = ANY(${[...scope.projectIds]}::text[])
            AND status IN ('QUEUED', 'RUNNING')
            AND created_at >= ${scope.from} AND created_at < ${scope.to}
          GROUP BY 1`;
        const [runs] = await tx.$queryRaw<{ hist: bigint[] | null }[]>`
          ${rows} SELECT hangar_sum_counts(r.run_hist) AS hist FROM r`;
        const topTools = await tx.$queryRaw<{ name: string; count: number }[]>`
          WITH seg(width, lo, hi) AS (
            SELECT * FROM unnest(
              ${segments.map((segment) => segment.width)}::text[],
              ${segments.map((segment) => segment.from.toISOString())}::timestamptz[],
              ${segments.map((segment) => segment.to.toISOString())}::timestamptz[])
          )
          SELECT t.tool AS name, sum(t.calls)::float8 AS count
          FROM task_tool_rollups t
          JOIN seg ON t.width = seg.width AND t.bucket >= seg.lo AND t.bucket < seg.hi
          WHERE t.project = ANY(${slugs}::text[])
          GROUP BY 1
          ORDER BY count DESC, name
          LIMIT ${TOP_TOOLS}`;
        const byProfile = await tx.$queryRaw<{ profile: string; tasks: number; costUsd: number }[]>`
          ${rows} SELECT r.profile, ${TASKS_AND_COST} FROM r GROUP BY 1 ORDER BY tasks DESC, 1`;
        const byProject = await tx.$queryRaw<{ project: string; tasks: number; costUsd: number }[]>`
          ${rows} SELECT r.project, ${TASKS_AND_COST} FROM r GROUP BY 1 ORDER BY tasks DESC, 1`;
        const counts = [...ended, ...active];
        const hist = (runs?.hist ?? []).map(Number);
        const quantile = (q: number) => {
          const value = histogramQuantile(hist, q);
          return value === null ? null : Math.round(value);
        };
        return {
          totals: totals[0]!,
          perBucket: perBucket.map(({ bucket, ...usage }) => ({ bucket: bucket.toISOString(), ...usage })),
          byStatus: TASK_STATUSES.map((status) => ({
            status,
            count: counts.find((row) => row.status === status)?.count ?? 0,
          })),
          duration: { p50Ms: quantile(0.5), p95Ms: quantile(0.95) },
          topTools,
          byProfile,
          byProject,
        };
      },
      // One snapshot: totals, buckets and breakdowns agree even while samples are stored. Prisma
      // ends an interactive transaction after 5 s by default: a year over a large history may take
      // longer on a busy database, and must answer, not fail.
      { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, timeout: 60_000 },
    );
  }

  // The finest width of rollups that holds all there is from `from` on: the metrics service
  // prunes the per-minute and per-hour rollups after their retention, so a range reaching past
  // that is read to the hour, or the day. (A finer width holds all there is when it reaches
  // back to `from`, or to where the next coarser one begins: nothing was pruned from it.)
  private async finest(tx: Prisma.TransactionClient, from: Date): Promise<RollupWidth> {
    const [oldest] = await tx.$queryRaw<{ minute: Date | null; hour: Date | null; day: Date | null }[]>`
      SELECT (SELECT min(bucket) FROM task_rollups WHERE width = 'minute') AS minute,
             (SELECT min(bucket) FROM task_rollups WHERE width = 'hour') AS hour,
             (SELECT min(bucket) FROM task_rollups WHERE width = 'day') AS day`;
    const holdsAll = (
      finer: Date | null | undefined,
      coarser: Date | null | undefined,
      width: RollupWidth,
    ) =>
      finer
        ? finer.getTime() <= from.getTime() ||
          !coarser ||
          finer.getTime() - coarser.getTime() < WIDTH_MS[width]
        : !coarser;
    if (holdsAll(oldest?.minute, oldest?.hour, 'hour')) return 'minute';
    if (holdsAll(oldest?.hour, oldest?.day, 'day')) return 'hour';
    return 'day';
  }
}
