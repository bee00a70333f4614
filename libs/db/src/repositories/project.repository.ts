import { HangarError, type Role, type RoutingStrategy } from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { DEFAULT_PROFILE } from './task.repository';

export interface ProjectRecord {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
  // How its tasks are routed (null: the installation's ROUTING_STRATEGY).
  routingStrategy: RoutingStrategy | null;
}

type ProjectRow = { id: string; slug: string; name: string; createdAt: Date; routingStrategy: string | null };

function toRecord(row: ProjectRow): ProjectRecord {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    routingStrategy: row.routingStrategy as RoutingStrategy | null,
  };
}

export function projectNotFound(slug: string): HangarError {
  return new HangarError('PROJECT_NOT_FOUND', `project "${slug}" does not exist or is not yours`, {
    field: 'project',
  });
}

// Slugs of the given project ids, for lists that show the project by name.
export async function projectSlugs(
  prisma: PrismaClient,
  ids: (string | null)[],
): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await prisma.project.findMany({
    where: { id: { in: wanted } },
    select: { id: true, slug: true },
  });
  return new Map(rows.map((row) => [row.id, row.slug]));
}

export class ProjectRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async all(): Promise<ProjectRecord[]> {
    const rows = await this.prisma.project.findMany({ orderBy: { slug: 'asc' } });
    return rows.map(toRecord);
  }

  async findBySlug(slug: string): Promise<ProjectRecord | null> {
    const row = await this.prisma.project.findUnique({ where: { slug } });
    return row ? toRecord(row) : null;
  }

  // A new project comes with its `default` agent profile, so tasks can start in it at once.
  // `owner` becomes its first admin.
  async create(input: { slug: string; name: string }, owner?: { userId: string; role: Role }) {
    try {
      const row = await this.prisma.project.create({
        data: {
          slug: input.slug,
          name: input.name,
          profiles: { create: { name: DEFAULT_PROFILE } },
          ...(owner ? { members: { create: { userId: owner.userId, role: owner.role } } } : {}),
        },
      });
      return toRecord(row);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new HangarError('PROJECT_EXISTS', `project "${input.slug}" exists already`, { field: 'slug' });
      }
      throw error;
    }
  }

  async update(
    id: string,
    changes: { name?: string | undefined; routingStrategy?: RoutingStrategy | null | undefined },
  ): Promise<ProjectRecord> {
    return toRecord(await this.prisma.project.update({ where: { id }, data: changes }));
  }
}
