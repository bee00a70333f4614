import {
  byCodeUnit,
  type Provider as AgentProvider,
  type RoutingStrategy,
  type RunnerExecutor,
  type RunnerPool,
  type RunnerRecord,
} from '@hangar/contracts';

// Routing's pure part (docs/routing.md): pools from the runners' records, which pools satisfy
// a task, and the strategies' choice. The orchestrator's TaskRouter applies it to the queues;
// the gateway uses it to refuse a task no known runner could ever take.

// A pool as routing sees it: what every one of its runners offers, and its load.
export interface PoolOffer {
  name: string;
  labels: string[];
  providers: AgentProvider[];
  executors: RunnerExecutor[];
  runners: RunnerRecord[];
  slots: number;
  running: number;
}

// What a task needs of its runner: labels, and the CLI of its profile's provider.
export interface RunnerNeeds {
  requires: readonly string[];
  provider: AgentProvider;
}

// A runner is live while its record is fresh: it missed fewer than three registrations.
export function isLive(record: RunnerRecord, now: number): boolean {
  return record.seenAt >= now - 3 * record.intervalMs;
}

function intersect<T>(lists: T[][]): T[] {
  const [first, ...rest] = lists;
  if (!first) return [];
  return [...new Set(first)].filter((item) => rest.every((list) => list.includes(item))).sort();
}

// Runners grouped by pool; a pool offers what all of its runners offer (any of them may take a
// job from the pool's queue).
export function poolsOf(records: readonly RunnerRecord[]): PoolOffer[] {
  const byPool = new Map<string, RunnerRecord[]>();
  for (const record of records) byPool.set(record.pool, [...(byPool.get(record.pool) ?? []), record]);
  return [...byPool.entries()]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([name, runners]) => ({
      name,
      labels: intersect(runners.map((runner) => runner.labels)),
      providers: intersect(runners.map((runner) => runner.providers)),
      executors: [...new Set(runners.map((runner) => runner.executor))].sort(),
      runners,
      slots: runners.reduce((sum, runner) => sum + runner.slots, 0),
      running: runners.reduce((sum, runner) => sum + runner.running, 0),
    }));
}

export function offers(pool: Pick<PoolOffer, 'labels' | 'providers'>, needs: RunnerNeeds): boolean {
  return (
    needs.requires.every((label) => pool.labels.includes(label)) && pool.providers.includes(needs.provider)
  );
}

// Why no pool of these satisfies the needs, in words a user can act on.
export function unsatisfiedReason(pools: readonly PoolOffer[], needs: RunnerNeeds): string {
  const wanted = [...needs.requires.map((label) => `label ${label}`), `the ${needs.provider} CLI`];
  const offered = pools.map((pool) => `${pool.name} [${[...pool.labels, ...pool.providers].join(', ')}]`);
  return `no runner offers ${wanted.join(' and ')} (pools: ${offered.join('; ') || 'none'})`;
}

// The API's view of a pool.
export function poolView(pool: PoolOffer, now: number): RunnerPool {
  return {
    name: pool.name,
    labels: pool.labels,
    providers: pool.providers,
    executors: pool.executors,
    runners: pool.runners.map((runner) => ({
      id: runner.id,
      live: isLive(runner, now),
      slots: runner.slots,
      running: runner.running,
      seenAt: new Date(runner.seenAt).toISOString(),
    })),
    slots: pool.slots,
    running: pool.running,
  };
}

// A candidate pool at the moment of choice: its offer, and its load (attempts running plus jobs
// waiting on its queue, counting those routed earlier in the same pass).
export interface PoolLoad {
  name: string;
  labels: readonly string[];
  slots: number;
  load: number;
}

// A pool's record of a profile's recent finished tasks (the performance strategy).
export interface PoolRecord {
  pool: string;
  completed: number;
  finished: number;
  // Mean duration of its finished tasks, ms; null without any.
  meanDurationMs: number | null;
}

// The performance strategy's weight of each pool: its success rate (with one success and one
// failure assumed, so a pool without history is tried and one bad run is not final) times its
// speed against the candidates' median duration (bounded, so speed never outweighs success).
export function performanceWeights(candidates: readonly string[], records: readonly PoolRecord[]): number[] {
  const byPool = new Map(records.map((record) => [record.pool, record]));
  const durations = records
    .filter((record) => candidates.includes(record.pool) && record.meanDurationMs)
    .map((record) => record.meanDurationMs as number)
    .sort((a, b) => a - b);
  const median = durations.length ? durations[Math.floor(durations.length / 2)] : null;
  return candidates.map((pool) => {
    const record = byPool.get(pool);
    const rate = ((record?.completed ?? 0) + 1) / ((record?.finished ?? 0) + 2);
    const speed =
      median && record?.meanDurationMs ? Math.min(4, Math.max(0.25, median / record.meanDurationMs)) : 1;
    return rate * speed;
  });
}

const loadOf = (pool: PoolLoad) => pool.load / Math.max(1, pool.slots);

function leastLoaded(candidates: readonly PoolLoad[]): PoolLoad {
  return candidates.reduce((best, pool) => (loadOf(pool) < loadOf(best) ? pool : best));
}

// Chooses among pools that all satisfy a task. Round-robin and performance rotate by smooth
// weighted round-robin (as NGINX balances upstreams: deterministic, each pool chosen in
// proportion to its weight, interleaved), one rotation per scope (a project or a workflow);
// least-loaded takes the lowest load per slot; capability the pool offering least beyond what
// the task requires (a plain task leaves the GPU pool free), then the least loaded. Hand-written:
// a few lines over state the orchestrator already holds; no library does this over our pools.
export class PoolChooser {
  private readonly rotations = new Map<string, Map<string, number>>();

  choose(
    strategy: RoutingStrategy,
    scope: string,
    candidates: readonly PoolLoad[],
    requires: readonly string[],
    weights?: readonly number[],
  ): PoolLoad {
    if (candidates.length === 0) throw new Error('no candidate pool');
    switch (strategy) {
      case 'least-loaded':
        return leastLoaded(candidates);
      case 'capability': {
        const surplus = (pool: PoolLoad) => pool.labels.filter((label) => !requires.includes(label)).length;
        const fewest = Math.min(...candidates.map(surplus));
        return leastLoaded(candidates.filter((pool) => surplus(pool) === fewest));
      }
      case 'round-robin':
        return this.rotate(
          `${strategy}:${scope}`,
          candidates,
          candidates.map(() => 1),
        );
      case 'performance':
        return this.rotate(`${strategy}:${scope}`, candidates, weights ?? candidates.map(() => 1));
    }
  }

  private rotate(key: string, candidates: readonly PoolLoad[], weights: readonly number[]): PoolLoad {
    const current = this.rotations.get(key) ?? new Map<string, number>();
    this.rotations.set(key, current);
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let best = 0;
    candidates.forEach((pool, index) => {
      current.set(pool.name, (current.get(pool.name) ?? 0) + (weights[index] ?? 0));
      const chosen = candidates[best] as PoolLoad;
      if ((current.get(pool.name) ?? 0) > (current.get(chosen.name) ?? 0)) best = index;
    });
    const chosen = candidates[best] as PoolLoad;
    current.set(chosen.name, (current.get(chosen.name) ?? 0) - total);
    return chosen;
  }
}
