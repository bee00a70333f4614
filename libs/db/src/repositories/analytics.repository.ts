import {
  TASK_STATUSES,
  type Analytics,
  type AnalyticsBucket,
  type AnalyticsUsage,
  type TaskStatus,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

export interface AnalyticsScope {
  projectIds: readonly string[];
  from: Date;
  to: Date;
  bucket: AnalyticsBucket;
}

const TOP_TOOLS = 10;

// Sums come back as float8 (exact for counts below 2^53, where bigint would need converting);
// costs are rounded to a millionth of a dollar so float sums do not show their noise.
const USAGE_COLUMNS = Prisma.sql`
  count(t.id)::int AS tasks,
  round(coalesce(sum(t.cost_usd), 0)::numeric, 6)::float8 AS "costUsd",
  coalesce(sum(t.input_tokens), 0)::float8 AS "inputTokens",
  coalesce(sum(t.output_tokens), 0)::float8 AS "outputTokens",
  coalesce(sum(t.cache_read_tokens), 0)::float8 AS "cacheReadTokens",
  coalesce(sum(t.cache_creation_tokens), 0)::float8 AS "cacheCreationTokens"`;

const TASKS_AND_COST = Prisma.sql`
  count(*)::int AS tasks,
  round(coalesce(sum(t.cost_usd), 0)::numeric, 6)::float8 AS "costUsd"`;

// Aggregates over stored tasks for the dashboard, one consistent snapshot per call.
export class AnalyticsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async summarize(scope: AnalyticsScope): Promise<Omit<Analytics, 'from' | 'to' | 'bucket'>> {
    // The tasks created in the range in the caller's projects; every query starts from these.
    const scoped = Prisma.sql`
      WITH t AS (
        SELECT tasks.*
        FROM tasks
        WHERE tasks.project_id = ANY(${[...scope.projectIds]}::text[])
          AND tasks.created_at >= ${scope.from} AND tasks.created_at < ${scope.to}
      )`;
    const step = `1 ${scope.bucket}`;
    const [totals, perBucket, byStatus, duration, topTools, byProfile, byProject] =
      await this.prisma.$transaction(
        [
          this.prisma.$queryRaw<AnalyticsUsage[]>`${scoped} SELECT ${USAGE_COLUMNS} FROM t`,
          this.prisma.$queryRaw<(AnalyticsUsage & { bucket: Date })[]>`
          ${scoped},
          buckets AS (
            SELECT generate_series(
              date_trunc(${scope.bucket}, ${scope.from}::timestamptz, 'UTC'),
              ${scope.to}::timestamptz - interval '1 microsecond',
              ${step}::interval
            ) AS bucket
          )
          SELECT buckets.bucket, ${USAGE_COLUMNS}
          FROM buckets
          LEFT JOIN t ON date_trunc(${scope.bucket}, t.created_at, 'UTC') = buckets.bucket
          GROUP BY buckets.bucket
          ORDER BY buckets.bucket`,
          this.prisma.$queryRaw<{ status: TaskStatus; count: number }[]>`
          ${scoped} SELECT t.status::text AS status, count(*)::int AS count FROM t GROUP BY t.status`,
          this.prisma.$queryRaw<{ p50Ms: number | null; p95Ms: number | null }[]>`
          ${scoped}, finished AS (
            SELECT extract(epoch FROM t.finished_at - t.started_at) * 1000 AS ms
            FROM t
            WHERE t.started_at IS NOT NULL AND t.finished_at IS NOT NULL
          )
          SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::float8 AS "p50Ms",
                 round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::float8 AS "p95Ms"
          FROM finished`,
          this.prisma.$queryRaw<{ name: string; count: number }[]>`
          ${scoped}
          SELECT e.data->>'name' AS name, count(*)::int AS count
          FROM t JOIN task_events e ON e.task_id = t.id
          WHERE e.type = 'tool.use' AND e.data->>'name' IS NOT NULL
          GROUP BY 1
          ORDER BY count DESC, name
          LIMIT ${TOP_TOOLS}`,
          this.tasksAndCostBy<'profile'>(
            scoped,
            Prisma.sql`agent_profiles p ON p.id = t.profile_id`,
            'name',
            'profile',
          ),
          this.tasksAndCostBy<'project'>(
            scoped,
            Prisma.sql`projects p ON p.id = t.project_id`,
            'slug',
            'project',
          ),
        ],
        // One snapshot: totals, buckets and breakdowns agree even while tasks finish.
        { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
      );
    return {
      totals: totals[0]!,
      perBucket: perBucket.map(({ bucket, ...usage }) => ({ bucket: bucket.toISOString(), ...usage })),
      byStatus: TASK_STATUSES.map((status) => ({
        status,
        count: byStatus.find((row) => row.status === status)?.count ?? 0,
      })),
      duration: duration[0] ?? { p50Ms: null, p95Ms: null },
      topTools,
      byProfile,
      byProject,
    };
  }

  // Tasks and cost per value of `column` of the joined table, most tasks first. Only fixed
  // identifiers reach Prisma.raw.
  private tasksAndCostBy<Key extends 'profile' | 'project'>(
    scoped: Prisma.Sql,
    join: Prisma.Sql,
    column: 'name' | 'slug',
    as: Key,
  ) {
    return this.prisma.$queryRaw<({ [key in Key]: string } & { tasks: number; costUsd: number })[]>`
      ${scoped}
      SELECT p.${Prisma.raw(column)} AS ${Prisma.raw(`"${as}"`)}, ${TASKS_AND_COST}
      FROM t JOIN ${join}
      GROUP BY 1
      ORDER BY tasks DESC, 1`;
  }
}
