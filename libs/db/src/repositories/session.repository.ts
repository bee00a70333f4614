import type { User } from '@hangar/contracts';
import type { PrismaClient } from '../generated/prisma/client';
import { toUser } from './user.repository';

export interface ActiveSession {
  id: string;
  expiresAt: Date;
  user: User;
}

// How often a session's last-seen time is written: not on every request.
const TOUCH_INTERVAL_MS = 60_000;

export class SessionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: {
    userId: string;
    hash: string;
    expiresAt: Date;
    ip?: string | undefined;
    userAgent?: string | undefined;
  }): Promise<{ id: string }> {
    return this.prisma.session.create({
      data: {
        userId: input.userId,
        hash: input.hash,
        expiresAt: input.expiresAt,
        ip: input.ip ?? null,
        userAgent: input.userAgent?.slice(0, 500) ?? null,
      },
      select: { id: true },
    });
  }

  // The session for this hash while it is valid: not revoked, not expired, its user enabled.
  async findActive(hash: string, now = new Date()): Promise<ActiveSession | null> {
    const row = await this.prisma.session.findUnique({ where: { hash }, include: { user: true } });
    if (!row || row.revokedAt !== null || row.expiresAt <= now || row.user.disabledAt !== null) return null;
    if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.prisma.session.update({ where: { id: row.id }, data: { lastSeenAt: now } });
    }
    return { id: row.id, expiresAt: row.expiresAt, user: toUser(row.user) };
  }

  async revoke(hash: string): Promise<void> {
    await this.prisma.session.updateMany({
      where: { hash, revokedAt: null },
      data: { revokedAt: new Date() },
    });
  }

  // A changed password or a disabled user ends every session of that user; the hashes of the
  // sessions it ended (their live connections close too).
  async revokeAllOf(userId: string): Promise<string[]> {
    const ended = await this.prisma.session.updateManyAndReturn({
      where: { userId, revokedAt: null },
      data: { revokedAt: new Date() },
      select: { hash: true },
    });
    return ended.map((session) => session.hash);
  }
}
