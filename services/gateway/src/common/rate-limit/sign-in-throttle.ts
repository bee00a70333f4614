import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { sha256Hex } from '@hangar/auth';
import { HangarError } from '@hangar/contracts';
import { REDIS, REDIS_SETTINGS, type RedisSettings } from '@hangar/redis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

export const SIGN_IN_WINDOW_SECONDS = 15 * 60;

// One sign-in attempt that got past the throttle: a success gives its points back.
export interface SignInAttempt {
  succeeded(): Promise<void>;
}

type Counted = 'account' | 'ip';

const REFUSAL: Record<Counted, string> = {
  account: 'too many failed sign-ins for this account',
  ip: 'too many failed sign-ins from this address',
};

// Failed sign-ins per account (its email, from any address) and per client IP (for any account),
// in Redis so every replica counts together. Each attempt takes a point from both before the
// password is checked — one atomic INCR each (rate-limiter-flexible), so concurrent attempts never
// get past a limit — and a success gives them back: only failures count. Past either limit the
// answer is 429, even for the right password. Redis away: sign-ins work, unthrottled.
@Injectable()
export class SignInThrottle {
  private readonly logger = new Logger(SignInThrottle.name);
  private readonly limiters: Record<Counted, RateLimiterRedis>;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(REDIS_SETTINGS) redisSettings: RedisSettings,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    const limiter = (counted: Counted, points: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        rejectIfRedisNotReady: true,
        keyPrefix: `${redisSettings.prefix}:sign-in-failures:${counted}`,
        points,
        duration: SIGN_IN_WINDOW_SECONDS,
      });
    this.limiters = {
      account: limiter('account', config.LOGIN_ATTEMPTS_PER_15_MINUTES),
      ip: limiter('ip', config.LOGIN_ATTEMPTS_PER_IP_PER_15_MINUTES),
    };
  }

  // Throws TOO_MANY_ATTEMPTS (429 with Retry-After) when the account or the address is over its
  // limit; nothing is counted for a refused attempt.
  async begin(email: string, ip: string): Promise<SignInAttempt> {
    // Emails stay out of Redis; the hash keys them just as well.
    const keys: Record<Counted, string> = { account: sha256Hex(email), ip };
    const taken: Counted[] = [];
    for (const counted of ['account', 'ip'] as const) {
      try {
        await this.limiters[counted].consume(keys[counted]);
        taken.push(counted);
      } catch (rejection) {
        await this.giveBack(taken, keys);
        if (rejection instanceof RateLimiterRes) throw tooMany(counted, rejection);
        this.warn(rejection);
        return { succeeded: async () => undefined };
      }
    }
    return { succeeded: () => this.giveBack(taken, keys) };
  }

  private async giveBack(taken: Counted[], keys: Record<Counted, string>): Promise<void> {
    await Promise.all(
      taken.map((counted) =>
        this.limiters[counted].reward(keys[counted]).catch((error: unknown) => this.warn(error)),
      ),
    );
  }

  private warn(error: unknown) {
    this.logger.warn(
      `sign-in throttle unavailable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function tooMany(counted: Counted, state: RateLimiterRes): HangarError {
  const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  return new HangarError('TOO_MANY_ATTEMPTS', `${REFUSAL[counted]}; retry in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
}
