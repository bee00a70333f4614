import { HangarError, type ApiToken, type Role, type RoutingStrategy } from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { sqlOf } from '../client';
import { StatementBatcher } from '../statement-batcher';

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

interface GrantRow {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  projectId: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  slug: string;
  projectName: string;
  projectCreatedAt: Date;
  routingStrategy: string | null;
  creatorId: string | null;
  creatorEmail: string | null;
  creatorDisabledAt: Date | null;
  creatorIsAdmin: boolean | null;
  creatorRole: Role | null;
}

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

function toGrant(row: GrantRow): TokenGrant {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    projectId: row.projectId,
    project: {
      slug: row.slug,
      name: row.projectName,
      createdAt: row.projectCreatedAt.toISOString(),
      routingStrategy: row.routingStrategy as RoutingStrategy | null,
    },
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    creator: row.creatorId
      ? {
          id: row.creatorId,
          email: row.creatorEmail!,
          disabled: row.creatorDisabledAt !== null,
          isAdmin: row.creatorIsAdmin!,
          role: row.creatorRole,
        }
      : null,
  };
}

export function tokenNotFound(id: string): HangarError {
  return new HangarError('TOKEN_NOT_FOUND', `API token ${id} does not exist`, { tokenId: id });
}

// How often a token's last-used time is written: not on every request.
const TOUCH_INTERVAL_MS = 60_000;

export class ApiTokenRepository {
  // Tokens whose last use this process wrote, and when (ms).
  private readonly touched = new Map<string, number>();
  private readonly grants = new StatementBatcher<string, TokenGrant | null>((hashes) =>
    this.grantsOf(hashes),
  );

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

  // One statement (the token, its project, its creator and their role there): every API request
  // authenticated with a token asks it, so it is a prepared node-postgres statement (../sql.ts),
  // and the requests that ask at once share it (../statement-batcher.ts).
  grant(hash: string): Promise<TokenGrant | null> {
    return this.grants.submit(hash);
  }

  private async grantsOf(hashes: string[]): Promise<(TokenGrant | null)[]> {
    const rows = await sqlOf(this.prisma).query<GrantRow & { hash: string }>(Prisma.sql`
      SELECT t.hash, t.id, t.name, t.prefix, t.role::text AS role, t.project_id AS "projectId",
             t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt",
             p.slug, p.name AS "projectName", p.created_at AS "projectCreatedAt",
             p.routing_strategy AS "routingStrategy",
             u.id AS "creatorId", u.email AS "creatorEmail", u.disabled_at AS "creatorDisabledAt",
             u.is_admin AS "creatorIsAdmin", m.role::text AS "creatorRole"
      FROM api_tokens t
      JOIN projects p ON p.id = t.project_id
      LEFT JOIN users u ON u.id = t.created_by_id
      LEFT JOIN project_members m ON m.user_id = u.id AND m.project_id = t.project_id
      WHERE t.hash = ANY(${[...new Set(hashes)]}::text[])`);
    const byHash = new Map(rows.map((row) => [row.hash, row]));
    return hashes.map((hash) => {
      const row = byHash.get(hash);
      return row ? toGrant(row) : null;
    });
  }

  // When the token was last used, to the minute: written at most once a TOUCH_INTERVAL_MS per
  // token from this process (its last write is remembered), not on every request.
  async touch(id: string, now = new Date()): Promise<void> {
    const last = this.touched.get(id);
    if (last !== undefined && now.getTime() - last < TOUCH_INTERVAL_MS) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(id, now.getTime());
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
