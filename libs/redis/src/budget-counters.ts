import type { Redis } from 'ioredis';

// A budget's counter in one period window, and its limits.
export interface BudgetCounter {
  budgetId: string;
  // The window's key (budgetWindow in @hangar/db): `total`, `d2026-12-05`, `m2026-12`.
  window: string;
  limitUsd: number | null;
  limitTokens: number | null;
  // Where it warns (its soft limit, a share of the limit); null: no such limit.
  softUsd: number | null;
  softTokens: number | null;
  // How long the window's counter is kept (0: always).
  ttlSeconds: number;
}

export type BudgetAdmission =
  | { admitted: true }
  // `spent`: the limit is reached; `busy`: calls in flight leave no room for another yet;
  // `unseeded`: the window's counter does not exist yet (seed it, then ask again).
  | { admitted: false; budgetId: string; why: 'spent' | 'busy' | 'unseeded' };

// Admits a call against every budget at once, or none: refused by the first whose limit is
// reached (`spent`), or, while calls are in flight, whose room is less than one more call as
// costly as its costliest so far (`busy`: the caller waits). So calls racing on one budget —
// several runners — overspend it by at most about one call. Admitted, each counter counts the
// call in flight. A counter that does not exist yet is answered `unseeded`, first.
const ADMIT_SCRIPT = `
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {i, 'unseeded'} end
end
for i = 1, #KEYS do
  local h = redis.call('HMGET', KEYS[i], 'usd', 'tokens', 'inflight', 'maxUsd', 'maxTokens')
  local usd = tonumber(h[1] or '0')
  local tokens = tonumber(h[2] or '0')
  local inflight = tonumber(h[3] or '0')
  local maxUsd = tonumber(h[4] or '0')
  local maxTokens = tonumber(h[5] or '0')
  local limitUsd = tonumber(ARGV[(i - 1) * 3 + 1])
  local limitTokens = tonumber(ARGV[(i - 1) * 3 + 2])
  if (limitUsd and usd >= limitUsd) or (limitTokens and tokens >= limitTokens) then
    return {i, 'spent'}
  end
  if inflight > 0 then
    if limitUsd and (maxUsd == 0 or usd + (inflight + 1) * maxUsd > limitUsd) then return {i, 'busy'} end
    if limitTokens and (maxTokens == 0 or tokens + (inflight + 1) * maxTokens > limitTokens) then
      return {i, 'busy'}
    end
  end
end
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'inflight', 1)
  local ttl = tonumber(ARGV[(i - 1) * 3 + 3])
  if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
end
return {0, ''}
`;

// An admitted call ended: what it cost is counted, and it is no longer in flight. Answers the
// counters whose soft limit this call reached first in their window (each warns once), with
// what they spent.
const RELEASE_SCRIPT = `
local usd = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local crossed = {}
for i = 1, #KEYS do
  if tonumber(redis.call('HINCRBY', KEYS[i], 'inflight', -1)) < 0 then redis.call('HSET', KEYS[i], 'inflight', 0) end
  redis.call('HINCRBYFLOAT', KEYS[i], 'usd', usd)
  redis.call('HINCRBY', KEYS[i], 'tokens', tokens)
  if usd > tonumber(redis.call('HGET', KEYS[i], 'maxUsd') or '0') then redis.call('HSET', KEYS[i], 'maxUsd', usd) end
  if tokens > tonumber(redis.call('HGET', KEYS[i], 'maxTokens') or '0') then
    redis.call('HSET', KEYS[i], 'maxTokens', tokens)
  end
  local softUsd = tonumber(ARGV[2 + (i - 1) * 2 + 1])
  local softTokens = tonumber(ARGV[2 + (i - 1) * 2 + 2])
  local h = redis.call('HMGET', KEYS[i], 'usd', 'tokens')
  if ((softUsd and tonumber(h[1]) >= softUsd) or (softTokens and tonumber(h[2]) >= softTokens))
    and redis.call('HSETNX', KEYS[i], 'warned', 1) == 1 then
    table.insert(crossed, {i, h[1], h[2]})
  end
end
return crossed
`;

// A counter whose soft limit a call reached (BudgetCounters.release).
export interface SoftLimitReached {
  budgetId: string;
  spentUsd: number;
  spentTokens: number;
}

// Budgets' spend per period window in Redis (docs/governance.md), shared by every runner: the
// model gateway admits each call against them atomically (one Lua script for all of a call's
// budgets) and counts what it cost when it ends. A counter that does not exist yet (a new
// window, a flushed Redis) is seeded from the calls PostgreSQL recorded.
export class BudgetCounters {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string },
  ) {}

  private key(counter: Pick<BudgetCounter, 'budgetId' | 'window'>): string {
    return `${this.options.prefix}:budget:${counter.budgetId}:${counter.window}`;
  }

  // Sets what was spent in the window, unless another runner did first.
  async seed(counter: BudgetCounter, spent: { usd: number; tokens: number }): Promise<void> {
    const key = this.key(counter);
    await this.redis
      .multi()
      .hsetnx(key, 'usd', String(spent.usd))
      .hsetnx(key, 'tokens', String(spent.tokens))
      .exec();
    if (counter.ttlSeconds > 0) await this.redis.expire(key, counter.ttlSeconds);
  }

  async admit(counters: readonly BudgetCounter[]): Promise<BudgetAdmission> {
    if (counters.length === 0) return { admitted: true };
    const [index, why] = (await this.redis.eval(
      ADMIT_SCRIPT,
      counters.length,
      ...counters.map((counter) => this.key(counter)),
      ...counters.flatMap((counter) => [
        counter.limitUsd === null ? '' : String(counter.limitUsd),
        counter.limitTokens === null ? '' : String(counter.limitTokens),
        String(counter.ttlSeconds),
      ]),
    )) as [number, string];
    if (index === 0) return { admitted: true };
    return {
      admitted: false,
      budgetId: counters[index - 1]!.budgetId,
      why: why as 'spent' | 'busy' | 'unseeded',
    };
  }

  async release(
    counters: readonly BudgetCounter[],
    spent: { usd: number; tokens: number },
  ): Promise<SoftLimitReached[]> {
    if (counters.length === 0) return [];
    const crossed = (await this.redis.eval(
      RELEASE_SCRIPT,
      counters.length,
      ...counters.map((counter) => this.key(counter)),
      String(spent.usd),
      String(Math.round(spent.tokens)),
      ...counters.flatMap((counter) => [
        counter.softUsd === null ? '' : String(counter.softUsd),
        counter.softTokens === null ? '' : String(counter.softTokens),
      ]),
    )) as [number, string, string][];
    return crossed.map(([index, usd, tokens]) => ({
      budgetId: counters[index - 1]!.budgetId,
      spentUsd: Number(usd),
      spentTokens: Number(tokens),
    }));
  }

  // What the window's counter says was spent (null: no counter yet).
  async spent(
    counter: Pick<BudgetCounter, 'budgetId' | 'window'>,
  ): Promise<{ usd: number; tokens: number } | null> {
    const [usd, tokens] = await this.redis.hmget(this.key(counter), 'usd', 'tokens');
    if (usd === null && tokens === null) return null;
    return { usd: Number(usd ?? 0), tokens: Number(tokens ?? 0) };
  }
}
