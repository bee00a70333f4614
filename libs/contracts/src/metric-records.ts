import { z } from 'zod';
import { TERMINAL_STATUSES, type Task, type TaskStatus } from './task';

// What the metrics service turns into time series (docs/observability.md), carried on one Redis
// stream with a consumer group: each record is stored once, acknowledged after it is.

const Count = z.number().int().nonnegative();
const Instant = z.iso.datetime({ offset: true });

// A task that ended (COMPLETED, FAILED or CANCELLED), as its lifecycle committed it. The
// metrics service adds what the record does not carry (its tool calls, from its stored events).
export const TaskEndedRecordSchema = z
  .object({
    kind: z.literal('task.ended'),
    taskId: z.string().min(1).max(200),
    // The project's slug and the profile's name, as the task's API shows them.
    project: z.string().min(1).max(200),
    profile: z.string().min(1).max(200),
    status: z.enum(TERMINAL_STATUSES as [TaskStatus, ...TaskStatus[]]),
    // Why it did not complete (failureReason); null when it did.
    reason: z.string().max(40).nullable(),
    attempts: Count,
    createdAt: Instant,
    startedAt: Instant.nullable(),
    finishedAt: Instant,
    costUsd: z.number().nonnegative().nullable(),
    inputTokens: Count.nullable(),
    outputTokens: Count.nullable(),
    cacheReadTokens: Count.nullable(),
    cacheCreationTokens: Count.nullable(),
    numTurns: Count.nullable(),
  })
  .strict();
export type TaskEndedRecord = z.infer<typeof TaskEndedRecordSchema>;

export const MetricRecordSchema = z.discriminatedUnion('kind', [TaskEndedRecordSchema]);
export type MetricRecord = z.infer<typeof MetricRecordSchema>;

// A failure's kind, for series by reason: the `kind:` an error message starts with (`timeout`,
// `spawn-failed`, `runner-lost` …: Hangar writes them), `other` for anything else, `cancelled`
// for a cancelled task. A bounded set: never the message itself.
const REASON = /^([a-z][a-z-]{0,31}):/;
export function failureReason(status: TaskStatus, error: string | null | undefined): string | null {
  if (status === 'COMPLETED') return null;
  if (status === 'CANCELLED') return 'cancelled';
  return REASON.exec(error ?? '')?.[1] ?? 'other';
}

// The bounds (ms) of the duration histograms the rollups keep, for percentiles read from them:
// bucket i counts durations in [bound i-1, bound i), bucket 0 those below the first, the last
// those from the last bound up (PostgreSQL's width_bucket(duration, bounds) numbers them so).
// Four per doubling from 16 ms to ~74 h (each bound ~19% above the last): a percentile read back
// is within its bucket, a fifth of its value at most.
export const DURATION_BOUNDS_MS: readonly number[] = Array.from({ length: 97 }, (_, i) =>
  Math.round(16 * 2 ** (i / 4)),
);

// The percentile `q` (0–1) of a histogram over DURATION_BOUNDS_MS (counts[i]: durations in
// bucket i), interpolated within its bucket; null when it counts nothing.
export function histogramQuantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i += 1) {
    const count = counts[i] ?? 0;
    if (count > 0 && seen + count >= rank) {
      const lower = i === 0 ? 0 : (DURATION_BOUNDS_MS[i - 1] ?? 0);
      const upper = DURATION_BOUNDS_MS[i];
      // Above the last bound: no telling how far.
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return DURATION_BOUNDS_MS[DURATION_BOUNDS_MS.length - 1] ?? null;
}

// The record of a task its lifecycle just ended.
export function taskEndedRecord(
  task: Pick<
    Task,
    | 'id'
    | 'project'
    | 'profile'
    | 'status'
    | 'error'
    | 'attempts'
    | 'createdAt'
    | 'startedAt'
    | 'finishedAt'
    | 'costUsd'
    | 'usage'
    | 'numTurns'
  >,
): TaskEndedRecord {
  return {
    kind: 'task.ended',
    taskId: task.id,
    project: task.project,
    profile: task.profile,
    status: task.status,
    reason: failureReason(task.status, task.error),
    attempts: task.attempts,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    // Every ending sets it; a record without one would be refused by the metrics service.
    finishedAt: task.finishedAt ?? '',
    costUsd: task.costUsd,
    inputTokens: task.usage?.inputTokens ?? null,
    outputTokens: task.usage?.outputTokens ?? null,
    cacheReadTokens: task.usage?.cacheReadTokens ?? null,
    cacheCreationTokens: task.usage?.cacheCreationTokens ?? null,
    numTurns: task.numTurns,
  };
}
