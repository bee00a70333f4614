import { readdirSync, readFileSync } from 'node:fs';

// What both measures share: the synthetic tasks' make-up, CPU times read from /proc, quantiles.

// Projects (slugs) and profiles (names, the same in every project), each with its share of the
// tasks: a few busy, a few quiet, as in an installation with several teams.
export const PROJECTS: readonly (readonly [string, number])[] = [
  ['web-app', 40],
  ['api', 25],
  ['mobile', 15],
  ['infra', 12],
  ['data', 8],
];
export const PROFILES: readonly (readonly [string, number])[] = [
  ['default', 40],
  ['review', 25],
  ['fast', 15],
  ['deep', 12],
  ['ci', 8],
];
// Why a FAILED task failed (failureReason's kinds); a CANCELLED one's reason is `cancelled`.
export const FAILURE_REASONS: readonly (readonly [string, number])[] = [
  ['timeout', 35],
  ['exit-code', 35],
  ['other', 20],
  ['runner-lost', 10],
];
// Of the ended tasks: 85% COMPLETED, 10% FAILED, 5% CANCELLED (half of those before they started).
export const COMPLETED_SHARE = 0.85;
export const FAILED_SHARE = 0.1;
// The tools agents call, each call count a share of the task's turns.
export const TOOLS: readonly (readonly [string, number])[] = [
  ['Read', 1.2],
  ['Bash', 0.8],
  ['Edit', 0.6],
  ['Grep', 0.5],
  ['Glob', 0.3],
  ['TodoWrite', 0.3],
  ['Write', 0.2],
  ['WebFetch', 0.05],
];

// A weighted list as a list of 100 entries, each as often as its share: pick one at random.
export function expand(weighted: readonly (readonly [string, number])[]): string[] {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  const entries: string[] = [];
  for (const [name, weight] of weighted)
    for (let i = 0; i < Math.round((weight / total) * 100); i += 1) entries.push(name);
  return entries;
}

// CPU time (ms, user + system) so far of one process; undefined when it is gone.
export function processCpuMs(pid: number | string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

const TICK_MS = 1000 / 100; // USER_HZ

export interface CpuSnapshot {
  postgres: number;
  // PostgreSQL's backends connected to `database` (their command line names it).
  postgresDatabase: number;
  redis: number;
  // Busy time of all CPUs: everything but idle and iowait.
  machine: number;
}

// CPU time so far of every PostgreSQL process (`pgrep postgres`: the server, its background
// processes, every backend), of those serving `database`, of Redis, and of the whole machine. A
// process that exits between two snapshots takes its time with it (a backend that connected
// meanwhile counts whole).
export function cpuSnapshot(database: string): CpuSnapshot {
  const snapshot: CpuSnapshot = { postgres: 0, postgresDatabase: 0, redis: 0, machine: 0 };
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (command !== 'postgres' && command !== 'redis-server') continue;
    const ms = processCpuMs(pid) ?? 0;
    if (command === 'redis-server') {
      snapshot.redis += ms;
      continue;
    }
    snapshot.postgres += ms;
    let line = '';
    try {
      line = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // gone meanwhile
    }
    if (line.includes(` ${database} `)) snapshot.postgresDatabase += ms;
  }
  const all = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  snapshot.machine = (all.reduce((sum, value) => sum + value, 0) - (all[3] ?? 0) - (all[4] ?? 0)) * TICK_MS;
  return snapshot;
}

// The nearest-rank quantile q (0–1) of the samples.
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))]!;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function thousands(value: number): string {
  return Math.round(value).toLocaleString('en');
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toLocaleString('en', { maximumFractionDigits: 0 })} MB`;
}
