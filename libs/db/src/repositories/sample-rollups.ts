import { DURATION_BOUNDS_MS } from '@hangar/contracts';

export const ROLLUP_WIDTHS = ['minute', 'hour', 'day'] as const;
export type RollupWidth = (typeof ROLLUP_WIDTHS)[number];

const WIDTH_MS: Record<RollupWidth, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

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

// One row of task_rollups to add (a bucket's sums for one key).
export interface RollupRow {
  width: RollupWidth;
  bucket: Date;
  project: string;
  profile: string;
  status: string;
  reason: string;
  tasks: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  numTurns: number;
  toolCalls: number;
  queueCount: number;
  queueMsSum: number;
  queueHist: number[];
  runCount: number;
  runMsSum: number;
  runHist: number[];
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

// The sums the samples add to each width's buckets (a width only from its `since` on), as the
// store upserts them: one row per key, in key order, so that two replicas adding to the same
// rows lock them in the same order. Histograms end at their last non-empty bucket.
export function rollupsOf(
  stored: readonly RolledSample[],
  since: Partial<Record<RollupWidth, Date>>,
): { rollups: RollupRow[]; tools: ToolRollupRow[] } {
  const rollups = new Map<string, RollupRow>();
  const tools = new Map<string, ToolRollupRow>();
  for (const width of ROLLUP_WIDTHS) {
    const from = since[width]?.getTime() ?? -Infinity;
    const size = WIDTH_MS[width];
    for (const { sample, finishedAt, queueMs, runMs } of stored) {
      const at = finishedAt.getTime();
      if (at < from) continue;
      const bucket = Math.floor(at / size) * size;
      const reason = sample.reason ?? '';
      // PostgreSQL text cannot hold \u0000 (a sample whose names do is refused before this).
      const prefix = `${width}\u0000${bucket}\u0000${sample.project}\u0000${sample.profile}`;
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
          tasks: 0,
          costUsd: 0,
          inputTokens: 0,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheCreationTokens: 0,
          numTurns: 0,
          toolCalls: 0,
          queueCount: 0,
          queueMsSum: 0,
          queueHist: [],
          runCount: 0,
          runMsSum: 0,
          runHist: [],
        };
        rollups.set(key, row);
      }
      row.tasks += 1;
      row.costUsd += sample.costUsd ?? 0;
      row.inputTokens += sample.inputTokens ?? 0;
      row.outputTokens += sample.outputTokens ?? 0;
      row.cacheReadTokens += sample.cacheReadTokens ?? 0;
      row.cacheCreationTokens += sample.cacheCreationTokens ?? 0;
      row.numTurns += sample.numTurns ?? 0;
      if (queueMs !== null) {
        row.queueCount += 1;
        row.queueMsSum += queueMs;
        count(row.queueHist, durationBucket(queueMs));
      }
      if (runMs !== null) {
        row.runCount += 1;
        row.runMsSum += runMs;
        count(row.runHist, durationBucket(runMs));
      }
      for (const tool in sample.toolCalls) {
        const calls = sample.toolCalls[tool]!;
        row.toolCalls += calls;
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
  return { rollups: sortedByKey(rollups), tools: sortedByKey(tools) };
}

function count(hist: number[], bucket: number) {
  while (hist.length <= bucket) hist.push(0);
  hist[bucket]! += 1;
}

function sortedByKey<T>(rows: Map<string, T>): T[] {
  return [...rows.keys()].sort().map((key) => rows.get(key)!);
}
