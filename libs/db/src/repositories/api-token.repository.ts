import { HangarError, type ApiToken, type Role, type RoutingStrategy } from '@hangar/contracts';
import type { PrismaClient } from '../generated/prisma/client';

// A token as authentication sees it: whether it may be used, and for what.
export interface TokenGrant {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  projectId: string;
  project: { slug: string; name: string; createdAt: string; routingStrategy: RoutingStrategy | null };
  expiresAt: Date | null;
  revokedAt: Date | null;
  // Null for tokens made without a user (the bootstrap token). A token never does more than
  // its creator may do now: a creator who left the project or was disabled takes it along.
  creator: { id: string; email: string; disabled: boolean; isAdmin: boolean; role: Role | null } | null;
}

const withRelations = {
  project: true,
  createdBy: { include: { memberships: true } },
} as const;

type TokenRow = Awaited<ReturnType<PrismaClient['apiToken']['findUniqueOrThrow']>> & {
  project: { slug: string };
  createdBy: { email: string } | null;
};

function toApiToken(row: TokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    project: row.project.slug,
    createdBy: row.createdBy?.email ?? null,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export function tokenNotFound(id: string): HangarError {
  return new HangarError('TOKEN_NOT_FOUND', `API token ${id} does not exist`, { tokenId: id });
}

// How often a token's last-used time is written: not on every request.
const TOUCH_INTERVAL_MS = 60_000;

export class ApiTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: {
    projectId: string;
    name: string;
    prefix: string;
    hash: string;
    role: Role;
    expiresAt: Date | null;
    createdById: string | null;
  }): Promise<ApiToken> {
    const row = await this.prisma.apiToken.create({
      data: input,
      include: { project: true, createdBy: true },
    });
    return toApiToken(row);
  }

  // The bootstrap token from the environment, created once; true when it was created now.
  async ensure(input: {
    projectId: string;
    name: string;
    prefix: string;
    hash: string;
    role: Role;
  }): Promise<boolean> {
    const existing = await this.prisma.apiToken.findUnique({ where: { hash: input.hash } });
    if (existing) return false;
    await this.prisma.apiToken.upsert({ where: { hash: input.hash }, create: input, update: {} });
    return true;
  }

  async grant(hash: string): Promise<TokenGrant | null> {
    const row = await this.prisma.apiToken.findUnique({ where: { hash }, include: withRelations });
    if (!row) return null;
    const creator = row.createdBy;
    return {
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      role: row.role,
      projectId: row.projectId,
      project: {
        slug: row.project.slug,
        name: row.project.name,
        createdAt: row.project.createdAt.toISOString(),
        routingStrategy: row.project.routingStrategy as RoutingStrategy | null,
      },
      expiresAt: row.expiresAt,
      revokedAt: row.revokedAt,
      creator: creator
        ? {
            id: creator.id,
            email: creator.email,
            disabled: creator.disabledAt !== null,
            isAdmin: creator.isAdmin,
            role: creator.memberships.find((member) => member.projectId === row.projectId)?.role ?? null,
          }
        : null,
    };
  }

  async touch(id: string, now = new Date()): Promise<void> {
    await this.prisma.apiToken.updateMany({
      where: {
        id,
        OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - TOUCH_INTERVAL_MS) } }],
      },
      data: { lastUsedAt: now },
    });
  }

  // Newest first; `createdById` narrows to one user's tokens.
  async list(projectId: string, createdById?: string): Promise<ApiToken[]> {
    const rows = await this.prisma.apiToken.findMany({
      where: { projectId, ...(createdById !== undefined ? { createdById } : {}) },
      include: { project: true, createdBy: true },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
    return rows.map(toApiToken);
  }

  async find(
    id: string,
    projectIds: readonly string[],
  ): Promise<(ApiToken & { projectId: string; createdById: string | null }) | null> {
    const row = await this.prisma.apiToken.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
      include: { project: true, createdBy: true },
    });
    return row ? { ...toApiToken(row), projectId: row.projectId, createdById: row.createdById } : null;
  }

  // Revoking twice is harmless: the first revocation time stays.
  async revoke(id: string): Promise<ApiToken> {
    await this.prisma.apiToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    const row = await this.prisma.apiToken.findUnique({
      where: { id },
      include: { project: true, createdBy: true },
    });
    if (!row) throw tokenNotFound(id);
    return toApiToken(row);
  }
}
