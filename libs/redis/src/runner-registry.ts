import type { Redis } from 'ioredis';
import { byCodeUnit, RunnerRecordSchema, type RunnerRecord } from '@hangar/contracts';

// How long a runner that stopped registering is remembered: a pool scaled to zero for the night
// still counts as one that can take its tasks (they wait), one gone for a day no longer does.
export const RUNNER_RECORD_TTL_MS = 24 * 3600 * 1000;

// The runners and what they offer (docs/routing.md): each runner writes its record at every
// heartbeat interval; the orchestrator routes by the live ones, the gateway refuses a task no
// known one could take. One hash under `<prefix>:runners`, one field per runner; records older
// than RUNNER_RECORD_TTL_MS are dropped as they are read.
export class RunnerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string },
  ) {}

  private get key(): string {
    return `${this.options.prefix}:runners`;
  }

  async record(runner: RunnerRecord): Promise<void> {
    await this.redis.hset(this.key, runner.id, JSON.stringify(RunnerRecordSchema.parse(runner)));
  }

  // A runner that stops for good (its shutdown, a controller that stops leading) says so.
  async remove(runnerId: string): Promise<void> {
    await this.redis.hdel(this.key, runnerId);
  }

  // Every runner seen within RUNNER_RECORD_TTL_MS, by id.
  async all(now = Date.now()): Promise<RunnerRecord[]> {
    const fields = await this.redis.hgetall(this.key);
    const records: RunnerRecord[] = [];
    const forgotten: string[] = [];
    for (const [id, value] of Object.entries(fields)) {
      const parsed = RunnerRecordSchema.safeParse(safeJson(value));
      if (parsed.success && parsed.data.seenAt >= now - RUNNER_RECORD_TTL_MS) records.push(parsed.data);
      else forgotten.push(id);
    }
    if (forgotten.length > 0) await this.redis.hdel(this.key, ...forgotten);
    return records.sort((a, b) => byCodeUnit(a.id, b.id));
  }
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
