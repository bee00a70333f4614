import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { Authenticator, randomSecret, sha256Hex, verifyPassword, type Principal } from '@hangar/auth';
import { HangarError, type LoginRequest } from '@hangar/contracts';
import { SessionRepository, UserRepository } from '@hangar/db';
import { REDIS, REDIS_SETTINGS, type RedisSettings } from '@hangar/redis';
import { AuditTrail } from '../../common/audit-trail';
import { LiveSockets } from '../../common/live-sockets';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

export interface SignedIn {
  principal: Principal;
  sessionId: string;
  expiresAt: Date;
}

const FAILED_LOGIN_WINDOW_SECONDS = 15 * 60;

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly failures: RateLimiterRedis;

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditTrail,
    private readonly sockets: LiveSockets,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) redis: Redis,
    @Inject(REDIS_SETTINGS) redisSettings: RedisSettings,
  ) {
    // Failed sign-ins per email and IP, in Redis so every replica counts them together.
    this.failures = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${redisSettings.prefix}:login-failures`,
      points: config.LOGIN_ATTEMPTS_PER_15_MINUTES,
      duration: FAILED_LOGIN_WINDOW_SECONDS,
    });
  }

  async login(input: LoginRequest, from: { ip: string; userAgent?: string | undefined }): Promise<SignedIn> {
    const throttleKey = `${input.email}|${from.ip}`;
    await this.refuseWhenThrottled(throttleKey);
    const found = await this.users.credentials(input.email);
    const valid = await verifyPassword(found?.passwordHash ?? null, input.password);
    if (!found || !valid || found.user.disabled) {
      await this.failures.penalty(throttleKey).catch((error: unknown) => this.warnThrottle(error));
      await this.audit.record({
        actor: { type: 'user', id: found?.user.id ?? null, label: input.email },
        action: 'auth.login_failed',
        details: { reason: !found || !valid ? 'wrong email or password' : 'user disabled' },
      });
      // One answer for all three: it does not tell which emails exist.
      throw new HangarError('INVALID_CREDENTIALS', 'wrong email or password, or the user is disabled');
    }
    await this.failures.delete(throttleKey).catch((error: unknown) => this.warnThrottle(error));
    const sessionId = randomSecret('hgs_');
    const expiresAt = new Date(Date.now() + this.config.SESSION_TTL_HOURS * 3_600_000);
    await this.sessions.create({
      userId: found.user.id,
      hash: sha256Hex(sessionId),
      expiresAt,
      ip: from.ip,
      userAgent: from.userAgent,
    });
    await this.users.recordLogin(found.user.id);
    const principal = await this.authenticator.forUser(found.user);
    return { principal, sessionId, expiresAt };
  }

  async logout(sessionId: string | undefined): Promise<void> {
    if (!sessionId) return;
    const hash = sha256Hex(sessionId);
    await this.sessions.revoke(hash);
    // The dashboard's live connection of this session ends with it (other sessions stay).
    this.sockets.disconnect(`session:${hash}`);
  }

  private async refuseWhenThrottled(key: string): Promise<void> {
    let state: RateLimiterRes | null;
    try {
      state = await this.failures.get(key);
    } catch (error) {
      // Redis away: sign-ins still work, only unthrottled (the per-IP API limit still holds).
      this.warnThrottle(error);
      return;
    }
    if (state && state.consumedPoints >= this.config.LOGIN_ATTEMPTS_PER_15_MINUTES) {
      const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
      throw new HangarError(
        'TOO_MANY_ATTEMPTS',
        `too many failed sign-ins for this email from this address; retry in ${retryAfterSeconds} s`,
        { retryAfterSeconds },
      );
    }
  }

  private warnThrottle(error: unknown) {
    this.logger.warn(
      `sign-in throttle unavailable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
