import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createRedis } from '@hangar/redis';

export type RateLimitKind = 'ip' | 'token';

export interface RateLimitOptions {
  redisUrl: string;
  // HANGAR_REDIS_PREFIX; keys go under `<prefix>:ratelimit:<kind>:`.
  prefix: string;
  // Requests per window; 0 turns that limit off.
  limits: Record<RateLimitKind, number>;
  windowSeconds: number;
  // How long to wait for Redis at start before letting requests through unlimited.
  connectWaitMs?: number;
  commandTimeoutMs?: number;
}

export interface RateLimitState {
  kind: RateLimitKind;
  limit: number;
  remaining: number;
  resetMs: number;
  allowed: boolean;
}

// Fixed-window counters in Redis (rate-limiter-flexible: one atomic Lua INCR + EXPIRE per request),
// so every gateway replica sharing the Redis and prefix draws on the same budget.
export class RateLimitStore implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RateLimitStore.name);
  private readonly redis: Redis;
  private readonly limiters = new Map<RateLimitKind, RateLimiterRedis>();

  constructor(private readonly options: RateLimitOptions) {
    this.redis = createRedis(options.redisUrl, {
      // Unlike the shared client, fail at once while Redis is away: a limiter that waits for Redis
      // would turn a Redis outage into an API outage. The caller lets the request through instead.
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: options.commandTimeoutMs ?? 500,
      // The socket of a refused connection never closes: don't hold shutdown 2 s for it.
      disconnectTimeout: 100,
    });
    // Without a listener ioredis prints every reconnect failure; the middleware warns instead.
    this.redis.on('error', (error: Error) => this.logger.debug(`Redis: ${error.message}`));
    for (const kind of ['ip', 'token'] as const) {
      const points = options.limits[kind];
      if (points <= 0) continue;
      this.limiters.set(
        kind,
        new RateLimiterRedis({
          storeClient: this.redis,
          rejectIfRedisNotReady: true,
          keyPrefix: `${options.prefix}:ratelimit:${kind}`,
          points,
          duration: options.windowSeconds,
        }),
      );
    }
  }

  async onModuleInit() {
    // Requests arriving before the first connection would pass unlimited: wait briefly for it.
    if (!(await this.waitUntilReady(this.options.connectWaitMs ?? 2000)))
      this.logger.warn('Redis is not reachable yet: rate limits apply once it is');
  }

  async onApplicationShutdown() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  // Resolves false on the first connection error or after `timeoutMs`.
  waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ready: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady).off('error', onError);
        resolve(ready);
      };
      const onReady = () => finish(true);
      const onError = () => finish(false);
      const timer = setTimeout(onError, timeoutMs);
      this.redis.on('ready', onReady).on('error', onError);
    });
  }

  // Counts one request against every limit that applies (undefined key: that limit does not) and
  // answers with the tightest: a refusing limit with the longest wait, else the least remaining.
  // Rejects when Redis cannot be asked.
  async consume(keys: Partial<Record<RateLimitKind, string>>): Promise<RateLimitState | undefined> {
    const states = await Promise.all(
      [...this.limiters].flatMap(([kind, limiter]) => {
        const key = keys[kind];
        return key === undefined ? [] : [this.consumeOne(kind, limiter, key)];
      }),
    );
    const refused = states.filter((state) => !state.allowed);
    if (refused.length > 0) return refused.reduce((a, b) => (b.resetMs > a.resetMs ? b : a));
    return states.reduce<RateLimitState | undefined>(
      (tightest, state) =>
        tightest === undefined || state.remaining < tightest.remaining ? state : tightest,
      undefined,
    );
  }

  private async consumeOne(kind: RateLimitKind, limiter: RateLimiterRedis, key: string) {
    const state = (result: RateLimiterRes, allowed: boolean): RateLimitState => ({
      kind,
      limit: limiter.points,
      remaining: result.remainingPoints,
      resetMs: result.msBeforeNext,
      allowed,
    });
    try {
      return state(await limiter.consume(key), true);
    } catch (rejection) {
      // The library rejects with a RateLimiterRes when over the limit, with an Error when Redis fails.
      if (rejection instanceof RateLimiterRes) return state(rejection, false);
      throw rejection;
    }
  }
}
