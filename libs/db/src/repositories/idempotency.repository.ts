import { Prisma, type PrismaClient } from '../generated/prisma/client';

export type IdempotencyClaim =
  | { kind: 'new' }
  // `withheld`: the secret fields the first answer had and this one leaves out.
  | { kind: 'replay'; status: number; body: unknown; withheld: string[] }
  | { kind: 'conflict' }
  | { kind: 'in-progress' };

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

// Answer fields that carry a secret shown once (a new API token's `token`, a new webhook's
// `secret`). The store never keeps their values: they are stored as null, so that a replay can
// say what it leaves out.
export const SHOWN_ONCE_FIELDS = ['token', 'secret'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withoutSecrets(body: unknown): unknown {
  if (!isObject(body)) return body;
  const stored = { ...body };
  for (const field of SHOWN_ONCE_FIELDS) if (field in stored) stored[field] = null;
  return stored;
}

function replayOf(stored: unknown): { body: unknown; withheld: string[] } {
  if (!isObject(stored)) return { body: stored, withheld: [] };
  const withheld = SHOWN_ONCE_FIELDS.filter((field) => field in stored);
  const body = { ...stored };
  for (const field of withheld) delete body[field];
  return { body, withheld };
}

// Answers to POSTs sent with an Idempotency-Key, per caller and path, for IDEMPOTENCY_WINDOW_MS.
export class IdempotencyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  // Claims the key for this request, atomically: exactly one of concurrent first requests wins.
  async claim(scope: string, key: string, requestHash: string, now = new Date()): Promise<IdempotencyClaim> {
    // A key older than the window is free again, and its answer goes (whoever's key it was).
    await this.prisma.idempotencyKey.deleteMany({
      where: { createdAt: { lt: new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS) } },
    });
    try {
      await this.prisma.idempotencyKey.create({ data: { scope, key, requestHash } });
      return { kind: 'new' };
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
    }
    const existing = await this.prisma.idempotencyKey.findUnique({ where: { scope_key: { scope, key } } });
    if (!existing) return this.claim(scope, key, requestHash, now);
    if (existing.requestHash !== requestHash) return { kind: 'conflict' };
    if (existing.status === null) return { kind: 'in-progress' };
    return { kind: 'replay', status: existing.status, ...replayOf(existing.responseBody) };
  }

  async complete(scope: string, key: string, status: number, body: unknown): Promise<void> {
    await this.prisma.idempotencyKey.update({
      where: { scope_key: { scope, key } },
      data: {
        status,
        responseBody: withoutSecrets(body) ?? Prisma.JsonNull,
        completedAt: new Date(),
      },
    });
  }

  // A request that failed leaves no record: the client may try again with the same key.
  async release(scope: string, key: string): Promise<void> {
    await this.prisma.idempotencyKey.deleteMany({ where: { scope, key, status: null } });
  }
}
