import {
  histogramQuantile,
  TASK_STATUSES,
  type Analytics,
  type AnalyticsBucket,
  type AnalyticsUsage,
  type TaskStatus,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { bucketStart, nextBucket, ROLLUP_WIDTHS, type RollupWidth } from './sample-rollups';

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
const COARSEST_FIRST: readonly RollupWidth[] = [...ROLLUP_WIDTHS].reverse();

// [from, to) as rollup buckets (UTC): whole months from the per-month rollups, the days at its
// ends that are not whole months from the per-day ones, then hours, then minutes at its very ends
// — a year is ~12 months and a few dozen days of rows, not half a million minutes. Only widths
// no finer than `finest` (what the rollups still hold that far back) and no coarser than
// `coarsest` (hours cannot come from a day's sums) are used; the range's ends are taken to the
// finest of them (the buckets that overlap the range).
export function rollupSegments(
  from: Date,
  to: Date,
  coarsest: RollupWidth,
  finest: RollupWidth,
): RollupSegment[] {
  let widths = COARSEST_FIRST.slice(COARSEST_FIRST.indexOf(coarsest), COARSEST_FIRST.indexOf(finest) + 1);
  if (widths.length === 0) widths = [coarsest];
  const finestWidth = widths[widths.length - 1]!;
  const ceil = (width: RollupWidth, at: number) => {
    const start = bucketStart(width, at);
    return start === at ? at : nextBucket(width, start);
  };
  const split = (lo: number, hi: number, level: number): RollupSegment[] => {
    if (lo >= hi) return [];
    const width = widths[level]!;
    const first = ceil(width, lo);
    const last = bucketStart(width, hi);
    if (first >= last) return split(lo, hi, level + 1);
    return [
      ...split(lo, first, level + 1),
      { width, from: new Date(first), to: new Date(last) },
      ...split(last, hi, level + 1),
    ];
  };
  return split(bucketStart(finestWidth, from.getTime()), ceil(finestWidth, to.getTime()), 0);
}

// The starts of the range's buckets (UTC): from the one `from` falls in to the last before `to`.
function bucketsOf({ from, to, bucket }: AnalyticsScope): number[] {
  const starts: number[] = [];
  for (let at = bucketStart(bucket, from.getTime()); at < to.getTime(); at = nextBucket(bucket, at))
    starts.push(at);
  return starts;
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

// The dashboard's numbers (docs/api.md#analytics), read from the metrics service's rollups
// (docs/observability.md), never from the tasks: ended tasks by when they ended, to the minute
// (to the hour, or day, where the per-minute rollups are gone); the tasks still queued or running
// that were created in the range from the tasks, few by nature. One snapshot per call.
export class AnalyticsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async summarize(scope: AnalyticsScope): Promise<Omit<Analytics, 'from' | 'to' | 'bucket'>> {
    return this.prisma.$transaction(
      async (tx) => {
        // A year's rows cost PostgreSQL's JIT more to compile (~130 ms) than to sum, and
        // parallel workers more to start (~50 ms on a 2-core machine) than they save on the few
        // thousand rows a range reads.
        await tx.$executeRaw`SET LOCAL jit = off`;
        await tx.$executeRaw`SET LOCAL max_parallel_workers_per_gather = 0`;
        const slugs = (
          await tx.$queryRaw<{ slug: string }[]>`
            SELECT slug FROM projects WHERE id = ANY(${[...scope.projectIds]}::text[])`
        ).map((row) => row.slug);
        const finest = await this.finest(tx, scope.from);
        // The segments as one range condition each, ORed: PostgreSQL scans the primary key once
        // per range. (Joined to the segments as a table, it cannot see the ranges and read every
        // row of every project: 0.9 s for a day of five projects over a year's history.)
        const within = (segments: readonly RollupSegment[]) =>
          Prisma.join(
            segments.map(
              (segment) =>
                Prisma.sql`(r.width = ${segment.width} AND r.bucket >= ${segment.from} AND r.bucket < ${segment.to})`,
            ),
            ' OR ',
          );
        // The buckets' series needs rows no coarser than a bucket; every other number is a sum
        // over the whole range, read from the coarsest rows that fit it (months, then days …).
        const bucketed = within(rollupSegments(scope.from, scope.to, scope.bucket, finest));
        const whole = within(rollupSegments(scope.from, scope.to, 'month', finest));
        // Series, totals, projects, run times and tools from the per-project rollups (a bucket's
        // one row per project); statuses and profiles from the full ones.
        const perProject = (segments: Prisma.Sql) => Prisma.sql`
          SELECT r.* FROM task_project_rollups r
          WHERE r.project = ANY(${slugs}::text[]) AND (${segments})`;
        const series = await tx.$queryRaw<(AnalyticsUsage & { bucket: Date })[]>`
          SELECT date_trunc(${scope.bucket}, r.bucket, 'UTC') AS bucket, ${USAGE_COLUMNS}
          FROM (${perProject(bucketed)}) r
          GROUP BY 1`;
        const sums = await tx.$queryRaw<
          (AnalyticsUsage & {
            kind: 'status' | 'profile' | 'project' | 'total';
            status: TaskStatus | null;
            name: string | null;
          })[]
        >`
          SELECT CASE WHEN GROUPING(r.project) = 0 THEN 'project' ELSE 'total' END AS kind,
            NULL AS status, r.project AS name, ${USAGE_COLUMNS}
          FROM (${perProject(whole)}) r
          GROUP BY GROUPING SETS ((r.project), ())
          UNION ALL
          SELECT CASE WHEN GROUPING(r.status) = 0 THEN 'status' ELSE 'profile' END,
            r.status, r.profile, ${USAGE_COLUMNS}
          FROM task_rollups r
          WHERE r.project = ANY(${slugs}::text[]) AND (${whole})
          GROUP BY GROUPING SETS ((r.status), (r.profile))
          ORDER BY kind, tasks DESC, name`;
        const active = await tx.$queryRaw<{ status: TaskStatus; count: number }[]>`
          SELECT status::text AS status, count(*)::int AS count FROM tasks
          WHERE project_id = ANY(${[...scope.projectIds]}::text[])
            AND status IN ('QUEUED', 'RUNNING')
            AND created_at >= ${scope.from} AND created_at < ${scope.to}
          GROUP BY 1`;
        // The run times' histograms summed element by element: by position over the unnested
        // counts, a few times faster than hangar_sum_counts (a SQL function per row).
        const [runs] = await tx.$queryRaw<{ hist: bigint[] | null }[]>`
          SELECT array_agg(total ORDER BY i) AS hist FROM (
            SELECT u.i, sum(u.count)::bigint AS total
            FROM (${perProject(whole)}) r, unnest(r.run_hist) WITH ORDINALITY AS u(count, i) GROUP BY u.i) h`;
        const topTools = await tx.$queryRaw<{ name: string; count: number }[]>`
          SELECT t.key AS name, sum(t.value::bigint)::float8 AS count
          FROM (${perProject(whole)}) r, jsonb_each_text(r.tools) AS t
          GROUP BY 1
          ORDER BY count DESC, name
          LIMIT ${TOP_TOOLS}`;
        const of = (kind: (typeof sums)[number]['kind']) => sums.filter((row) => row.kind === kind);
        const usage = ({
          tasks,
          costUsd,
          inputTokens,
          outputTokens,
          cacheReadTokens,
          cacheCreationTokens,
        }: AnalyticsUsage) => ({
          tasks,
          costUsd,
          inputTokens,
          outputTokens,
          cacheReadTokens,
          cacheCreationTokens,
        });
        const counted = new Map(series.map((row) => [row.bucket.getTime(), usage(row)]));
        const zero = usage({
          tasks: 0,
          costUsd: 0,
          inputTokens: 0,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheCreationTokens: 0,
        });
        const perBucket = bucketsOf(scope).map((at) => ({
          bucket: new Date(at).toISOString(),
          ...(counted.get(at) ?? zero),
        }));
        const ended = of('status').map((row) => ({ status: row.status!, count: row.tasks }));
        const breakdown = (kind: 'profile' | 'project') =>
          of(kind).map((row) => ({ name: row.name!, tasks: row.tasks, costUsd: row.costUsd }));
        const byProfile = breakdown('profile').map(({ name, ...sum }) => ({ profile: name, ...sum }));
        const byProject = breakdown('project').map(({ name, ...sum }) => ({ project: name, ...sum }));
        const counts = [...ended, ...active];
        const hist = (runs?.hist ?? []).map(Number);
        const quantile = (q: number) => {
          const value = histogramQuantile(hist, q);
          return value === null ? null : Math.round(value);
        };
        return {
          totals: usage(of('total')[0] ?? zero),
          perBucket,
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
          finer.getTime() < nextBucket(width, coarser.getTime())
        : !coarser;
    if (holdsAll(oldest?.minute, oldest?.hour, 'hour')) return 'minute';
    if (holdsAll(oldest?.hour, oldest?.day, 'day')) return 'hour';
    return 'day';
  }
}
