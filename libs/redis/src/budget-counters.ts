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

// What an admitted call may cost at most, reserved against its budgets while it is in flight
// (docs/governance.md): its input at its worst (every byte of the request a token, at its model's
// dearest input price) and its output — the most any call of the budget's window wrote so far,
// at least `outputFloorTokens`, at most what the request allows (`outputCapTokens`).
export interface CallReserve {
  inputUsd: number;
  inputTokens: number;
  // Dollars per output token of the call's model (0: a model without a price).
  outputUsdPerToken: number;
  outputFloorTokens: number;
  outputCapTokens: number;
}

// What was reserved for an admitted call on each of its counters (in their order).
export interface Reservation {
  usd: number;
  tokens: number;
}

export type BudgetAdmission =
  | { admitted: true; reservations: Reservation[] }
  // `spent`: the limit is reached; `busy`: calls in flight, at their worst, leave no room for
  // this one yet; `unseeded`: the window's counter does not exist yet (seed it, ask again).
  | { admitted: false; budgetId: string; why: 'spent' | 'busy' | 'unseeded' };

// A counter whose soft limit a call reached (BudgetCounters.release).
export interface SoftLimitReached {
  budgetId: string;
  spentUsd: number;
  spentTokens: number;
}

// Admits a call against every budget at once, or none: refused by the first whose limit is
// reached (`spent`), or, while other calls are in flight, whose room is less than they and this
// one may cost at their worst (`busy`: the caller waits). A call alone in flight is admitted
// until the limit is reached: so calls racing on one budget — several runners — overspend it
// by at most one call. Admitted, each counter counts the call in flight and reserves its worst.
// A counter that does not exist yet is answered `unseeded`, first.
const ADMIT_SCRIPT = `
local inUsd = tonumber(ARGV[1])
local inTokens = tonumber(ARGV[2])
local outPrice = tonumber(ARGV[3])
local outFloor = tonumber(ARGV[4])
local outCap = tonumber(ARGV[5])
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {i, 'unseeded'} end
end
local reserved = {}
for i = 1, #KEYS do
  local h = redis.call('HMGET', KEYS[i], 'usd', 'tokens', 'inflight', 'reservedUsd', 'reservedTokens', 'maxOut')
  local usd = tonumber(h[1] or '0')
  local tokens = tonumber(h[2] or '0')
  local inflight = tonumber(h[3] or '0')
  local limitUsd = tonumber(ARGV[5 + (i - 1) * 3 + 1])
  local limitTokens = tonumber(ARGV[5 + (i - 1) * 3 + 2])
  if (limitUsd and usd >= limitUsd) or (limitTokens and tokens >= limitTokens) then
    return {i, 'spent'}
  end
  local out = math.min(outCap, math.max(outFloor, tonumber(h[6] or '0')))
  local rUsd = inUsd + out * outPrice
  local rTokens = inTokens + out
  if inflight > 0 then
    if limitUsd and usd + tonumber(h[4] or '0') + rUsd > limitUsd then return {i, 'busy'} end
    if limitTokens and tokens + tonumber(h[5] or '0') + rTokens > limitTokens then return {i, 'busy'} end
  end
  reserved[i] = {rUsd, rTokens}
end
local answer = {0, ''}
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'inflight', 1)
  redis.call('HINCRBYFLOAT', KEYS[i], 'reservedUsd', reserved[i][1])
  redis.call('HINCRBYFLOAT', KEYS[i], 'reservedTokens', reserved[i][2])
  local ttl = tonumber(ARGV[5 + (i - 1) * 3 + 3])
  if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
  table.insert(answer, tostring(reserved[i][1]))
  table.insert(answer, tostring(reserved[i][2]))
end
return answer
`;

// An admitted call ended: what it cost is counted, its reservation given back, and it is no
// longer in flight. Answers the counters whose soft limit this call reached first in their
// window (each warns once), with what they spent.
const RELEASE_SCRIPT = `
local usd = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local outTokens = tonumber(ARGV[3])
local crossed = {}
for i = 1, #KEYS do
  local base = 3 + (i - 1) * 4
  if tonumber(redis.call('HINCRBY', KEYS[i], 'inflight', -1)) <= 0 then
    redis.call('HSET', KEYS[i], 'inflight', 0, 'reservedUsd', 0, 'reservedTokens', 0)
  else
    redis.call('HINCRBYFLOAT', KEYS[i], 'reservedUsd', -tonumber(ARGV[base + 3]))
    redis.call('HINCRBYFLOAT', KEYS[i], 'reservedTokens', -tonumber(ARGV[base + 4]))
  end
  redis.call('HINCRBYFLOAT', KEYS[i], 'usd', usd)
  redis.call('HINCRBY', KEYS[i], 'tokens', tokens)
  if outTokens > tonumber(redis.call('HGET', KEYS[i], 'maxOut') or '0') then
    redis.call('HSET', KEYS[i], 'maxOut', outTokens)
  end
  local softUsd = tonumber(ARGV[base + 1])
  local softTokens = tonumber(ARGV[base + 2])
  local h = redis.call('HMGET', KEYS[i], 'usd', 'tokens')
  if ((softUsd and tonumber(h[1]) >= softUsd) or (softTokens and tonumber(h[2]) >= softTokens))
    and redis.call('HSETNX', KEYS[i], 'warned', 1) == 1 then
    table.insert(crossed, {i, h[1], h[2]})
  end
end
return crossed
`;

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

  async admit(counters: readonly BudgetCounter[], reserve: CallReserve): Promise<BudgetAdmission> {
    if (counters.length === 0) return { admitted: true, reservations: [] };
    const [index, why, ...reserved] = (await this.redis.eval(
      ADMIT_SCRIPT,
      counters.length,
      ...counters.map((counter) => this.key(counter)),
      String(reserve.inputUsd),
      String(Math.ceil(reserve.inputTokens)),
      String(reserve.outputUsdPerToken),
      String(Math.ceil(reserve.outputFloorTokens)),
      String(Math.ceil(reserve.outputCapTokens)),
      ...counters.flatMap((counter) => [
        counter.limitUsd === null ? '' : String(counter.limitUsd),
        counter.limitTokens === null ? '' : String(counter.limitTokens),
        String(counter.ttlSeconds),
      ]),
    )) as [number, string, ...string[]];
    if (index === 0)
      return {
        admitted: true,
        reservations: counters.map((_, at) => ({
          usd: Number(reserved[at * 2]),
          tokens: Number(reserved[at * 2 + 1]),
        })),
      };
    return {
      admitted: false,
      budgetId: counters[index - 1]!.budgetId,
      why: why as 'spent' | 'busy' | 'unseeded',
    };
  }

  // `spent.outputTokens`: what the call wrote (the next calls' output reserve learns from it).
  async release(
    counters: readonly BudgetCounter[],
    reservations: readonly Reservation[],
    spent: { usd: number; tokens: number; outputTokens: number },
  ): Promise<SoftLimitReached[]> {
    if (counters.length === 0) return [];
    const crossed = (await this.redis.eval(
      RELEASE_SCRIPT,
      counters.length,
      ...counters.map((counter) => this.key(counter)),
      String(spent.usd),
      String(Math.round(spent.tokens)),
      String(Math.round(spent.outputTokens)),
      ...counters.flatMap((counter, at) => [
        counter.softUsd === null ? '' : String(counter.softUsd),
        counter.softTokens === null ? '' : String(counter.softTokens),
        String(reservations[at]?.usd ?? 0),
        String(reservations[at]?.tokens ?? 0),
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
