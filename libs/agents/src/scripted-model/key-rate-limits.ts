import { z } from 'zod';
import type { ErrorReply } from './model-protocol';

// The requests-per-minute limit a refusal's headers claim; any plausible tier would do.
export const RATE_LIMIT_REQUESTS = 50;
const MAX_LIMIT_MS = 24 * 60 * 60 * 1000;
const MAX_TRACKED_KEYS = 10_000;

export const RateLimitRequestSchema = z
  .object({
    key: z.string().min(1),
    // 0 lifts the key's limit.
    forMs: z.number().int().min(0).max(MAX_LIMIT_MS),
    status: z.literal([429, 529]).default(429),
  })
  .strict();
export type RateLimitRequest = z.infer<typeof RateLimitRequestSchema>;

export interface RateLimitView {
  status: 429 | 529;
  until: string;
  remainingMs: number;
}

export interface KeyCalls {
  refused: number;
  served: number;
}

export interface RateLimitsSnapshot {
  limits: Record<string, RateLimitView>;
  calls: Record<string, KeyCalls>;
}

interface KeyLimit {
  status: 429 | 529;
  // Epoch ms.
  until: number;
}

export interface KeyRefusal extends KeyLimit {
  remainingMs: number;
}

// Which API keys a test has rate-limited, and how many model calls each key made: per server, so
// the gateway's tests can rest a limited key and see the next one serve.
export class KeyRateLimits {
  private readonly limits = new Map<string, KeyLimit>();
  private readonly calls = new Map<string, KeyCalls>();

  constructor(private readonly now: () => number = Date.now) {}

  set({ key, forMs, status }: RateLimitRequest): RateLimitView | null {
    if (forMs === 0) {
      this.limits.delete(key);
      return null;
    }
    const now = this.now();
    const limit: KeyLimit = { status, until: now + forMs };
    this.limits.set(key, limit);
    return limitView(limit, now);
  }

  // Counts one model call with the key; answers the refusal when the key is limited now.
  admit(key: string): KeyRefusal | undefined {
    const now = this.now();
    const refusal = this.activeLimit(key, now);
    const calls = this.calls.get(key) ?? { refused: 0, served: 0 };
    if (refusal) calls.refused += 1;
    else calls.served += 1;
    // Re-inserted so the map's first key is the least recently used.
    this.calls.delete(key);
    this.calls.set(key, calls);
    if (this.calls.size > MAX_TRACKED_KEYS) {
      const oldest = this.calls.keys().next();
      if (!oldest.done) this.calls.delete(oldest.value);
    }
    return refusal && { ...refusal, remainingMs: refusal.until - now };
  }

  snapshot(): RateLimitsSnapshot {
    const now = this.now();
    // fromEntries, not assignment: a key named `__proto__` must stay a key.
    const limits = [...this.limits.keys()].flatMap((key) => {
      const limit = this.activeLimit(key, now);
      return limit ? [[key, limitView(limit, now)] as const] : [];
    });
    return {
      limits: Object.fromEntries(limits),
      calls: Object.fromEntries([...this.calls].map(([key, calls]) => [key, { ...calls }])),
    };
  }

  private activeLimit(key: string, now: number): KeyLimit | undefined {
    const limit = this.limits.get(key);
    if (limit && limit.until <= now) {
      this.limits.delete(key);
      return undefined;
    }
    return limit;
  }
}

function limitView(limit: KeyLimit, now: number): RateLimitView {
  return { status: limit.status, until: new Date(limit.until).toISOString(), remainingMs: limit.until - now };
}

// A 429 carries the rate-limit details each API puts in its headers; a 529 (overloaded) only
// says when to retry.
export function refusalReply(refusal: KeyRefusal): ErrorReply {
  const retryAfterSeconds = Math.max(1, Math.ceil(refusal.remainingMs / 1000));
  if (refusal.status === 529) {
    return { status: 529, message: 'Overloaded', retryAfterSeconds };
  }
  return {
    status: 429,
    message: `scripted rate limit: this API key may be used again at ${new Date(refusal.until).toISOString()}`,
    retryAfterSeconds,
    rateLimit: { limit: RATE_LIMIT_REQUESTS, resetAt: refusal.until, resetInMs: refusal.remainingMs },
  };
}
