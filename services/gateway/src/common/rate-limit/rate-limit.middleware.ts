import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, type Problem } from '@hangar/contracts';
import { currentTraceId } from '@hangar/observability';
import { bearerTokenHash, clientIp } from './rate-limit-keys';
import { RateLimitStore, type RateLimitKind, type RateLimitState } from './rate-limit.store';

export const RATE_LIMIT_POLICY = Symbol('RATE_LIMIT_POLICY');

export interface RateLimitPolicy {
  windowSeconds: number;
  // Proxies in front of the gateway whose X-Forwarded-For entries are believed (0: the socket address).
  trustedProxies: number;
}

// One warning per outage and then at most one a minute: every request fails open while Redis is away.
const FAIL_OPEN_WARNING_INTERVAL_MS = 60_000;

const SUBJECT: Record<RateLimitKind, string> = { ip: 'client IP', token: 'API token' };

// Not the ProblemFilter: an exception thrown here would lose the RateLimit-* and Retry-After
// headers to the filter's response, and RATE_LIMITED is an HTTP concern, not a domain error code.
@Injectable()
export class RateLimitMiddleware implements NestMiddleware<Request, Response> {
  private readonly logger = new Logger(RateLimitMiddleware.name);
  private failingOpenSince: number | undefined;
  private lastWarningAt = 0;

  constructor(
    private readonly store: RateLimitStore,
    @Inject(RATE_LIMIT_POLICY) private readonly policy: RateLimitPolicy,
  ) {}

  async use(request: Request, response: Response, next: NextFunction) {
    let state: RateLimitState | undefined;
    try {
      state = await this.store.consume({
        ip: clientIp(request, this.policy.trustedProxies),
        token: bearerTokenHash(request.headers.authorization),
      });
      this.noteRecovery();
    } catch (error) {
      this.failOpen(error);
      return next();
    }
    if (state === undefined) return next();
    const resetSeconds = Math.max(1, Math.ceil(state.resetMs / 1000));
    response.setHeader('RateLimit-Limit', String(state.limit));
    response.setHeader('RateLimit-Remaining', String(state.remaining));
    response.setHeader('RateLimit-Reset', String(resetSeconds));
    if (state.allowed) return next();
    this.refuse(request, response, state, resetSeconds);
  }

  private refuse(request: Request, response: Response, state: RateLimitState, retryAfter: number) {
    const problem: Problem = {
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      code: 'RATE_LIMITED',
      detail:
        `rate limit of ${state.limit} requests per ${this.windowText()} per ${SUBJECT[state.kind]} ` +
        `exceeded; retry in ${retryAfter} s`,
      instance: request.originalUrl,
    };
    const traceId = currentTraceId();
    if (traceId) problem.traceId = traceId;
    this.logger.debug(`429 ${request.method} ${request.originalUrl}: ${problem.detail}`);
    response
      .status(429)
      .set('Retry-After', String(retryAfter))
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(problem));
  }

  private windowText() {
    return this.policy.windowSeconds === 60 ? 'minute' : `${this.policy.windowSeconds} s`;
  }

  private failOpen(error: unknown) {
    const now = Date.now();
    this.failingOpenSince ??= now;
    if (now - this.lastWarningAt < FAIL_OPEN_WARNING_INTERVAL_MS) return;
    this.lastWarningAt = now;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`rate limits not enforced, requests pass unlimited: Redis failed (${reason})`);
  }

  private noteRecovery() {
    if (this.failingOpenSince === undefined) return;
    const seconds = Math.round((Date.now() - this.failingOpenSince) / 1000);
    this.logger.log(`rate limits enforced again after ${seconds} s without Redis`);
    this.failingOpenSince = undefined;
    this.lastWarningAt = 0;
  }
}
