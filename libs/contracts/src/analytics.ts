import { z } from 'zod';
import { ProjectSlugSchema } from './accounts';
import { TaskStatusSchema } from './task';

export const ANALYTICS_BUCKETS = ['day', 'hour'] as const;
export const AnalyticsBucketSchema = z.enum(ANALYTICS_BUCKETS);
export type AnalyticsBucket = z.infer<typeof AnalyticsBucketSchema>;

export const ANALYTICS_DEFAULT_DAYS = 7;
export const ANALYTICS_MAX_DAYS = 366;
const DAY_MS = 86_400_000;

// GET /api/v1/analytics: tasks that ended in [from, to), read from the metrics service's rollups
// (docs/api.md#analytics). Without `to`: now; without `from`: seven days before `to`. Defaults are
// resolved when the query is parsed, so the range checks see them.
export const AnalyticsQuerySchema = z
  .object({
    // Without it: every project the caller can see.
    project: ProjectSlugSchema.optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    bucket: AnalyticsBucketSchema.default('day'),
  })
  .strict()
  .transform((query, context) => {
    const to = query.to === undefined ? new Date() : new Date(query.to);
    const from =
      query.from === undefined
        ? new Date(to.getTime() - ANALYTICS_DEFAULT_DAYS * DAY_MS)
        : new Date(query.from);
    if (from.getTime() >= to.getTime()) {
      context.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
      return z.NEVER;
    }
    if (to.getTime() - from.getTime() > ANALYTICS_MAX_DAYS * DAY_MS) {
      context.addIssue({
        code: 'custom',
        path: ['from'],
        message: `must be at most ${ANALYTICS_MAX_DAYS} days before to`,
      });
      return z.NEVER;
    }
    return { project: query.project, from: from.toISOString(), to: to.toISOString(), bucket: query.bucket };
  });
export type AnalyticsQuery = z.output<typeof AnalyticsQuerySchema>;

// Sums over a set of tasks; tokens are the kinds a task's usage reports.
export const AnalyticsUsageSchema = z.object({
  tasks: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheCreationTokens: z.number().int().nonnegative(),
});
export type AnalyticsUsage = z.infer<typeof AnalyticsUsageSchema>;

const TasksAndCost = { tasks: z.number().int().nonnegative(), costUsd: z.number().nonnegative() };

export const AnalyticsSchema = z.object({
  // The range and bucket size the numbers are for, with the defaults filled in.
  from: z.string(),
  to: z.string(),
  bucket: AnalyticsBucketSchema,
  totals: AnalyticsUsageSchema,
  // Every bucket (UTC day or hour) that overlaps the range, oldest first, empty ones as zeros.
  perBucket: z.array(AnalyticsUsageSchema.extend({ bucket: z.string() })),
  // Every status, zeros included: the ended ones by when they ended, QUEUED and RUNNING the tasks
  // created in the range that are still waiting or running.
  byStatus: z.array(z.object({ status: TaskStatusSchema, count: z.number().int().nonnegative() })),
  // Wall-clock time from start to end of the ended tasks that started, read from histograms
  // (within a fifth of the exact percentile); null when none did.
  duration: z.object({ p50Ms: z.number().int().nullable(), p95Ms: z.number().int().nullable() }),
  // The ten tools the agents called most (tool.use events), most used first.
  topTools: z.array(z.object({ name: z.string(), count: z.number().int().positive() })),
  byProfile: z.array(z.object({ profile: z.string(), ...TasksAndCost })),
  // By project slug.
  byProject: z.array(z.object({ project: z.string(), ...TasksAndCost })),
});
export type Analytics = z.infer<typeof AnalyticsSchema>;
