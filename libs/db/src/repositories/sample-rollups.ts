import { DURATION_BOUNDS_MS } from '@hangar/contracts';

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

// A stored sample as the rollups see it: its values, its end as PostgreSQL stored it, and its
// durations as the store computed them (null when it never started).
export interface RolledSample {
  sample: {
    project: string;
    profile: string;
    status: string;
    reason: string | null;
    costUsd: number | null;
    inputTokens: number | null;
    outputTokens: number | null;
    cacheReadTokens: number | null;
    cacheCreationTokens: number | null;
    numTurns: number | null;
    toolCalls: Record<string, number>;
  };
  finishedAt: Date;
  queueMs: number | null;
  runMs: number | null;
}

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
// store upserts them: one row per key, in key order (finest width first), so that two
// transactions adding to the same rows lock them in the same order — and one that waits for
// another, waits at the coarse rows they share, after its own minutes. Histograms end at their
// last non-empty bucket.
export function rollupsOf(
  stored: readonly RolledSample[],
  since: Partial<Record<RollupWidth, Date>>,
): Rollups {
  const rollups = new Map<string, RollupRow>();
  const tools = new Map<string, ToolRollupRow>();
  const projects = new Map<string, ProjectRollupRow>();
  const from = ROLLUP_WIDTHS.map((width) => since[width]?.getTime() ?? -Infinity);
  for (const { sample, finishedAt, queueMs, runMs } of stored) {
    const at = finishedAt.getTime();
    const queueBucket = queueMs === null ? -1 : durationBucket(queueMs);
    const runBucket = runMs === null ? -1 : durationBucket(runMs);
    const reason = sample.reason ?? '';
    for (let level = 0; level < ROLLUP_WIDTHS.length; level += 1) {
      if (at < from[level]!) continue;
      const width = ROLLUP_WIDTHS[level]!;
      const bucket = bucketStart(width, at);
      // The level leads the key, so that the rows sort finest width first. PostgreSQL text
      // cannot hold \u0000 (a sample whose names do is refused before this).
      const projectKey = `${level}\u0000${bucket}\u0000${sample.project}`;
      const prefix = `${projectKey}\u0000${sample.profile}`;
      const key = `${prefix}\u0000${sample.status}\u0000${reason}`;
      let row = rollups.get(key);
      if (!row) {
        row = {
          width,
          bucket: new Date(bucket),
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
        rollups.set(key, row);
      }
      let total = projects.get(projectKey);
      if (!total) {
        total = {
          width,
          bucket: row.bucket,
          project: sample.project,
          ...noSums(),
          tools: {},
        };
        projects.set(projectKey, total);
      }
      for (const sums of [row, total]) {
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
      row.numTurns += sample.numTurns ?? 0;
      if (queueMs !== null) {
        row.queueCount += 1;
        row.queueMsSum += queueMs;
        count(row.queueHist, queueBucket);
      }
      for (const tool in sample.toolCalls) {
        const calls = sample.toolCalls[tool]!;
        row.toolCalls += calls;
        total.tools[tool] = (total.tools[tool] ?? 0) + calls;
        const toolKey = `${prefix}\u0000${tool}`;
        const toolRow = tools.get(toolKey);
        if (toolRow) toolRow.calls += calls;
        else
          tools.set(toolKey, {
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
  return { rollups: sortedByKey(rollups), tools: sortedByKey(tools), projects: sortedByKey(projects) };
}

function count(hist: number[], bucket: number) {
  while (hist.length <= bucket) hist.push(0);
  hist[bucket]! += 1;
}

// Keys compare as strings: not always chronological, but the same order in every transaction,
// which is what the locks need.
function sortedByKey<T>(rows: Map<string, T>): T[] {
  return [...rows.keys()].sort().map((key) => rows.get(key)!);
}
