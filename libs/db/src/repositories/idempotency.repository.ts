import { Prisma, type PrismaClient } from '../generated/prisma/client';

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'conflict' }
  | { kind: 'in-progress' };

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export class IdempotencyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  // Claims the key for this request, atomically: exactly one of concurrent first requests wins.
  async claim(scope: string, key: string, requestHash: string, now = new Date()): Promise<IdempotencyClaim> {
    // A key older than the window is free again.
    await this.prisma.idempotencyKey.deleteMany({
      where: { scope, key, createdAt: { lt: new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS) } },
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
    return { kind: 'replay', status: existing.status, body: existing.responseBody };
  }

  async complete(scope: string, key: string, status: number, body: unknown): Promise<void> {
    await this.prisma.idempotencyKey.update({
      where: { scope_key: { scope, key } },
      data: {
        status,
        responseBody: body ?? Prisma.JsonNull,
        completedAt: new Date(),
      },
    });
  }

  // A request that failed leaves no record: the client may try again with the same key.
  async release(scope: string, key: string): Promise<void> {
    await this.prisma.idempotencyKey.deleteMany({ where: { scope, key, status: null } });
  }
}
