import type { ActorType, AuditEntry, AuditPage } from '@hangar/contracts';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { keysetAfter, keysetPage } from './keyset-cursor';
import { projectSlugs } from './project.repository';

export interface NewAuditEntry {
  projectId?: string | null;
  actor: { type: ActorType; id: string | null; label: string };
  action: string;
  target?: { type: string; id: string } | null;
  ip?: string | null;
  userAgent?: string | null;
  traceId?: string | null;
  details?: Record<string, unknown>;
}

export class AuditRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async record(entry: NewAuditEntry): Promise<void> {
    await this.prisma.auditEntry.create({
      data: {
        projectId: entry.projectId ?? null,
        actorType: entry.actor.type,
        actorId: entry.actor.id,
        actorLabel: entry.actor.label,
        action: entry.action,
        targetType: entry.target?.type ?? null,
        targetId: entry.target?.id ?? null,
        ip: entry.ip ?? null,
        userAgent: entry.userAgent?.slice(0, 500) ?? null,
        traceId: entry.traceId ?? null,
        details: (entry.details ?? {}) as Prisma.InputJsonObject,
      },
    });
  }

  // Newest first. `projectIds` null: every entry (instance administrators), including those
  // of no project (users, sign-ins).
  async list(query: {
    projectIds: readonly string[] | null;
    action?: string;
    limit: number;
    cursor?: string;
  }): Promise<AuditPage> {
    const rows = await this.prisma.auditEntry.findMany({
      where: {
        AND: [
          query.projectIds === null ? {} : { projectId: { in: [...query.projectIds] } },
          query.action ? { action: query.action } : {},
          keysetAfter('at', query.cursor),
        ],
      },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => row.at);
    const slugs = await projectSlugs(
      this.prisma,
      page.map((row) => row.projectId),
    );
    return {
      items: page.map((row): AuditEntry => ({
        id: row.id,
        at: row.at.toISOString(),
        project: row.projectId ? (slugs.get(row.projectId) ?? row.projectId) : null,
        actor: { type: row.actorType as ActorType, id: row.actorId, label: row.actorLabel },
        action: row.action,
        target: row.targetType && row.targetId ? { type: row.targetType, id: row.targetId } : null,
        ip: row.ip,
        userAgent: row.userAgent,
        traceId: row.traceId,
        details: row.details as Record<string, unknown>,
      })),
      nextCursor,
    };
  }
}
