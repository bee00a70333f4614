import type { GitCredential, GitHostEntry } from '@hangar/contracts';
import type { PrismaClient } from '../generated/prisma/client';

// An allowed host with its credential: for the host policy (the gateway's check, the runner's
// clone and push), never for an API answer.
export interface StoredGitHost {
  host: string;
  credential: GitCredential | null;
}

type GitHostRow = { host: string; username: string | null; token: string | null };

function toStored(row: GitHostRow): StoredGitHost {
  return {
    host: row.host,
    credential:
      row.token === null ? null : { token: row.token, ...(row.username ? { username: row.username } : {}) },
  };
}

export class ProjectGitHostRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async list(projectId: string): Promise<StoredGitHost[]> {
    const rows = await this.prisma.projectGitHost.findMany({
      where: { projectId },
      orderBy: { host: 'asc' },
    });
    return rows.map(toStored);
  }

  // Runners know a task's project by its slug (slugs never change).
  async listForSlug(slug: string): Promise<StoredGitHost[]> {
    const rows = await this.prisma.projectGitHost.findMany({
      where: { project: { slug } },
      orderBy: { host: 'asc' },
    });
    return rows.map(toStored);
  }

  // The project's whole list, at once. An entry without `credential` keeps the one stored for
  // its host (none for a new host); `credential: null` stores none.
  async replace(projectId: string, entries: GitHostEntry[]): Promise<StoredGitHost[]> {
    return this.prisma.$transaction(async (tx) => {
      // Two replacements of one project's list take turns, so neither sees half of the other.
      await tx.$queryRaw`SELECT 1 FROM "projects" WHERE "id" = ${projectId} FOR UPDATE`;
      const stored = new Map(
        (await tx.projectGitHost.findMany({ where: { projectId } })).map((row) => [row.host, row]),
      );
      await tx.projectGitHost.deleteMany({ where: { projectId } });
      const rows = entries.map((entry) => {
        const kept = entry.credential === undefined ? stored.get(entry.host) : undefined;
        return {
          projectId,
          host: entry.host,
          username: entry.credential?.username ?? kept?.username ?? null,
          token: entry.credential?.token ?? kept?.token ?? null,
        };
      });
      await tx.projectGitHost.createMany({ data: rows });
      const saved = await tx.projectGitHost.findMany({ where: { projectId }, orderBy: { host: 'asc' } });
      return saved.map(toStored);
    });
  }
}
