import type { Redis } from 'ioredis';

// One credential of a provider's pool as the pools count it (its key stays in the runner).
export interface PoolMember {
  name: string;
  // Calls in flight with it at once, across runners (null: no cap).
  maxConcurrent: number | null;
  // Tokens of its calls per minute (null: no cap), counted as calls end.
  tokensPerMinute: number | null;
}

export type CredentialChoice =
  | { ok: true; name: string; lease: string }
  // Every credential of the pool is rested: the first is back at `until` (epoch ms).
  | { ok: false; why: 'rested'; until: number }
  // Those not rested are at their concurrency or per-minute token cap: a call ends soon.
  | { ok: false; why: 'busy' };

// How long a lease outlives a call whose runner died without giving it back.
const LEASE_MS = 15 * 60_000;

// Picks the credential of a pool a call goes out with: not rested, under its caps, the least
// busy; leases it (a sorted set of leases by expiry, so a runner that died gives its leases
// back in time). KEYS: per member its rest, leases and this minute's tokens. ARGV: now,
// lease id, lease expiry, then per member its concurrency and token caps ('' for none).
const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[1])
local best, bestLoad, earliest = nil, nil, nil
local rested = 0
local members = #KEYS / 3
for i = 1, members do
  local untilMs = tonumber(redis.call('GET', KEYS[(i - 1) * 3 + 1]) or '0')
  if untilMs > now then
    rested = rested + 1
    if earliest == nil or untilMs < earliest then earliest = untilMs end
  else
    local leases = KEYS[(i - 1) * 3 + 2]
    redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
    local load = redis.call('ZCARD', leases)
    local maxConcurrent = tonumber(ARGV[3 + (i - 1) * 2 + 1])
    local perMinute = tonumber(ARGV[3 + (i - 1) * 2 + 2])
    local used = tonumber(redis.call('GET', KEYS[(i - 1) * 3 + 3]) or '0')
    if (not maxConcurrent or load < maxConcurrent) and (not perMinute or used < perMinute)
      and (best == nil or load < bestLoad) then
      best = i
      bestLoad = load
    end
  end
end
if best then
  local leases = KEYS[(best - 1) * 3 + 2]
  redis.call('ZADD', leases, tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIREAT', leases, tonumber(ARGV[3]))
  return {best, ''}
end
if rested == members then return {0, tostring(earliest)} end
return {-1, ''}
`;

// Rests a credential until `until` (a later rest wins), then, when every member of its pool is
// rested, marks the pool limited until its first member is back. KEYS: the credential's rest,
// the pool's mark, then every member's rest. ARGV: until, now.
const REST_SCRIPT = `
local untilMs = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if untilMs > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untilMs, 'PXAT', untilMs)
end
local earliest = nil
for i = 3, #KEYS do
  local memberUntil = tonumber(redis.call('GET', KEYS[i]) or '0')
  if memberUntil <= now then return '' end
  if earliest == nil or memberUntil < earliest then earliest = memberUntil end
end
redis.call('SET', KEYS[2], earliest, 'PXAT', earliest)
return tostring(earliest)
`;

// Providers' credential pools (docs/governance.md), shared by every runner in Redis: which
// credential a call goes out with, each credential's concurrency and per-minute token caps,
// and rests — a credential the provider rate-limited is not used until its reset, and a pool
// whose every credential rests is marked limited until the first is back, which the
// orchestrator reads to hold back the tasks that need it.
export class CredentialPools {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string },
  ) {}

  private key(provider: string, name: string, what: string): string {
    return `${this.options.prefix}:credential:${provider}:${name}:${what}`;
  }

  private poolKey(provider: string): string {
    return `${this.options.prefix}:pool:${provider}:limited`;
  }

  private minuteKey(provider: string, name: string, at: number): string {
    return this.key(provider, name, `tokens:${Math.floor(at / 60_000)}`);
  }

  async acquire(provider: string, members: readonly PoolMember[], lease: string): Promise<CredentialChoice> {
    const now = Date.now();
    const [index, until] = (await this.redis.eval(
      ACQUIRE_SCRIPT,
      members.length * 3,
      ...members.flatMap((member) => [
        this.key(provider, member.name, 'rest'),
        this.key(provider, member.name, 'leases'),
        this.minuteKey(provider, member.name, now),
      ]),
      String(now),
      lease,
      String(now + LEASE_MS),
      ...members.flatMap((member) => [
        member.maxConcurrent === null ? '' : String(member.maxConcurrent),
        member.tokensPerMinute === null ? '' : String(member.tokensPerMinute),
      ]),
    )) as [number, string];
    if (index > 0) return { ok: true, name: members[index - 1]!.name, lease };
    if (index === 0) return { ok: false, why: 'rested', until: Number(until) };
    return { ok: false, why: 'busy' };
  }

  // A call ended: its lease given back, its tokens counted in this minute.
  async release(provider: string, name: string, lease: string, tokens: number): Promise<void> {
    const minute = this.minuteKey(provider, name, Date.now());
    await this.redis
      .multi()
      .zrem(this.key(provider, name, 'leases'), lease)
      .incrby(minute, Math.max(0, Math.round(tokens)))
      .expire(minute, 120)
      .exec();
  }

  // The provider limited `name` until `until` (epoch ms). Answers when the pool is back, when
  // this left every member of it rested (null otherwise).
  async rest(
    provider: string,
    name: string,
    until: number,
    members: readonly PoolMember[],
  ): Promise<number | null> {
    const limited = (await this.redis.eval(
      REST_SCRIPT,
      2 + members.length,
      this.key(provider, name, 'rest'),
      this.poolKey(provider),
      ...members.map((member) => this.key(provider, member.name, 'rest')),
      String(Math.round(until)),
      String(Date.now()),
    )) as string;
    return limited === '' ? null : Number(limited);
  }

  // Until when each of these providers' pool is limited (every credential rested); those not
  // limited are left out.
  async limited(providers: readonly string[]): Promise<Map<string, number>> {
    if (providers.length === 0) return new Map();
    const values = await this.redis.mget(...providers.map((provider) => this.poolKey(provider)));
    const now = Date.now();
    const limited = new Map<string, number>();
    providers.forEach((provider, index) => {
      const until = Number(values[index] ?? 0);
      if (until > now) limited.set(provider, until);
    });
    return limited;
  }
}
