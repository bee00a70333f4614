import { DURATION_BOUNDS_MS, type TaskEndedRecord } from '@hangar/contracts';

// Finest first. A month is a calendar month (UTC): the coarsest sums, for a long range's totals
// and breakdowns (a year is ~12 rows per key, not 365).
export const ROLLUP_WIDTHS = ['minute', 'hour', 'day', 'month'] as const;
export type RollupWidth = (typeof ROLLUP_WIDTHS)[number];

const FIXED_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

// The start of the bucket of `width` that `ms` falls in (UTC), as date_trunc(width, …, 'UTC').
export function bucketStart(width: RollupWidth, ms: number): number {
  if (width !== 'month') return Math.floor(ms / FIXED_MS[width]) * FIXED_MS[width];
  const at = new Date(ms);
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
}

// The start of the bucket of `width` after the one starting at `start`.
export function nextBucket(width: RollupWidth, start: number): number {
  if (width !== 'month') return start + FIXED_MS[width];
  const at = new Date(start);
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
}

// A stored sample as the rollups see it: its values, its end as PostgreSQL stored it (ms since
// the epoch), and its durations as the store computed them (null when it never started).
export interface RolledSample<S extends RolledValues = RolledValues> {
  sample: S;
  finishedMs: number;
  queueMs: number | null;
  runMs: number | null;
}

type RolledValues = Pick<
  TaskEndedRecord,
  | 'project'
  | 'profile'
  | 'status'
  | 'reason'
  | 'costUsd'
  | 'inputTokens'
  | 'outputTokens'
  | 'cacheReadTokens'
  | 'cacheCreationTokens'
  | 'numTurns'
> & { toolCalls: Record<string, number> };

// What every rollup row sums: tasks, usage, and run times.
interface TaskSums {
  tasks: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  runCount: number;
  runMsSum: number;
  runHist: number[];
}

function noSums(): TaskSums {
  return {
    tasks: 0,
    costUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    runCount: 0,
    runMsSum: 0,
    runHist: [],
  };
}

// One row of task_rollups to add (a bucket's sums for one key).
export interface RollupRow extends TaskSums {
  width: RollupWidth;
  bucket: Date;
  project: string;
  profile: string;
  status: string;
  reason: string;
  numTurns: number;
  toolCalls: number;
  queueCount: number;
  queueMsSum: number;
  queueHist: number[];
}

// One row of task_tool_rollups to add.
export interface ToolRollupRow {
  width: RollupWidth;
  bucket: Date;
  project: string;
  profile: string;
  tool: string;
  calls: number;
}

// The bucket a duration is counted in: PostgreSQL's width_bucket(ms, DURATION_BOUNDS_MS) — 0
// below the first bound, i for [bound i-1, bound i), the bounds' count from the last one up.
export function durationBucket(ms: number): number {
  let low = 0;
  let high = DURATION_BOUNDS_MS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ms >= DURATION_BOUNDS_MS[middle]!) low = middle + 1;
    else high = middle;
  }
  return low;
}

// One row of task_project_rollups to add: a bucket's sums for one project, whatever the profile
// or outcome — what analytics reads for its series, totals, run times and tools.
export interface ProjectRollupRow extends TaskSums {
  width: RollupWidth;
  bucket: Date;
  project: string;
  tools: Record<string, number>;
}

export interface Rollups {
  rollups: RollupRow[];
  tools: ToolRollupRow[];
  projects: ProjectRollupRow[];
}

// The sums the samples add to each width's buckets (a width only from its `since` on), as the
// store upserts them: one row per key, in key order, so that two transactions adding to the same
// rows lock them in the same order (no deadlock). The order is the finest width first, in a
// width the latest bucket first, then the names: of two batches stored at once, the later one —
// which shares with the earlier at most the minute, hour, day and month where one ended and the
// next began — adds its own minutes before it waits at the first row they share. Histograms end
// at their last non-empty bucket.
export function rollupsOf(
  stored: readonly RolledSample[],
  since: Partial<Record<RollupWidth, Date>>,
): Rollups {
  // Per width, per bucket start, per names: numbers and short keys, not one long string a row.
  const levels = ROLLUP_WIDTHS.map(() => ({
    rollups: new Map<number, Map<string, RollupRow>>(),
    tools: new Map<number, Map<string, ToolRollupRow>>(),
    projects: new Map<number, Map<string, ProjectRollupRow>>(),
  }));
  const from = ROLLUP_WIDTHS.map((width) => since[width]?.getTime() ?? -Infinity);
  for (const { sample, finishedMs: at, queueMs, runMs } of stored) {
    const queueBucket = queueMs === null ? -1 : durationBucket(queueMs);
    const runBucket = runMs === null ? -1 : durationBucket(runMs);
    const reason = sample.reason ?? '';
    // PostgreSQL text cannot hold \u0000 (a sample whose names do is refused before this).
    const names = `${sample.project}\u0000${sample.profile}`;
    const key = `${names}\u0000${sample.status}\u0000${reason}`;
    let tools: [string, string, number][] | undefined;
    for (const tool in sample.toolCalls)
      (tools ??= []).push([tool, `${names}\u0000${tool}`, sample.toolCalls[tool]!]);
    for (let level = 0; level < ROLLUP_WIDTHS.length; level += 1) {
      if (at < from[level]!) continue;
      const width = ROLLUP_WIDTHS[level]!;
      const start = bucketStart(width, at);
      const maps = levels[level]!;
      const rows = inBucket(maps.rollups, start);
      let row = rows.get(key);
      if (!row) {
        row = {
          width,
          bucket: new Date(start),
          project: sample.project,
          profile: sample.profile,
          status: sample.status,
          reason,
          ...noSums(),
          numTurns: 0,
          toolCalls: 0,
          queueCount: 0,
          queueMsSum: 0,
          queueHist: [],
        };
        rows.set(key, row);
      }
      const totals = inBucket(maps.projects, start);
      let total = totals.get(sample.project);
      if (!total) {
        total = { width, bucket: row.bucket, project: sample.project, ...noSums(), tools: {} };
        totals.set(sample.project, total);
      }
      add(row, sample, runMs, runBucket);
      add(total, sample, runMs, runBucket);
      row.numTurns += sample.numTurns ?? 0;
      if (queueMs !== null) {
        row.queueCount += 1;
        row.queueMsSum += queueMs;
        count(row.queueHist, queueBucket);
      }
      if (!tools) continue;
      const toolRows = inBucket(maps.tools, start);
      for (const [tool, toolKey, calls] of tools) {
        row.toolCalls += calls;
        total.tools[tool] = (total.tools[tool] ?? 0) + calls;
        const toolRow = toolRows.get(toolKey);
        if (toolRow) toolRow.calls += calls;
        else
          toolRows.set(toolKey, {
            width,
            bucket: row.bucket,
            project: sample.project,
            profile: sample.profile,
            tool,
            calls,
          });
      }
    }
  }
  return {
    rollups: levels.flatMap((maps) => inOrder(maps.rollups)),
    tools: levels.flatMap((maps) => inOrder(maps.tools)),
    projects: levels.flatMap((maps) => inOrder(maps.projects)),
  };
}

function add(sums: TaskSums, sample: RolledValues, runMs: number | null, runBucket: number) {
  sums.tasks += 1;
  sums.costUsd += sample.costUsd ?? 0;
  sums.inputTokens += sample.inputTokens ?? 0;
  sums.outputTokens += sample.outputTokens ?? 0;
  sums.cacheReadTokens += sample.cacheReadTokens ?? 0;
  sums.cacheCreationTokens += sample.cacheCreationTokens ?? 0;
  if (runMs !== null) {
    sums.runCount += 1;
    sums.runMsSum += runMs;
    count(sums.runHist, runBucket);
  }
}

function inBucket<T>(buckets: Map<number, Map<string, T>>, start: number): Map<string, T> {
  let rows = buckets.get(start);
  if (!rows) buckets.set(start, (rows = new Map<string, T>()));
  return rows;
}

// A width's rows: the latest bucket first, then by their names (as strings compare: one order
// in every transaction, which is what the locks need).
function inOrder<T>(buckets: Map<number, Map<string, T>>): T[] {
  const rows: T[] = [];
  for (const start of [...buckets.keys()].sort((a, b) => b - a)) {
    const named = buckets.get(start)!;
    for (const key of [...named.keys()].sort()) rows.push(named.get(key)!);
  }
  return rows;
}

function count(hist: number[], bucket: number) {
  while (hist.length <= bucket) hist.push(0);
  hist[bucket]! += 1;
}
