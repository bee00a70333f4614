import { HangarError, type Member, type Role, type User, type RoutingStrategy } from '@hangar/contracts';
import { Prisma, type PrismaClient, type User as UserRow } from '../generated/prisma/client';

export interface MembershipRecord {
  projectId: string;
  slug: string;
  name: string;
  createdAt: string;
  routingStrategy: RoutingStrategy | null;
  role: Role;
}

// What signing in needs: the user and the hash to check the password against.
export interface UserCredentials {
  user: User;
  passwordHash: string;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isAdmin: row.isAdmin,
    disabled: row.disabledAt !== null,
    createdAt: row.createdAt.toISOString(),
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
  };
}

export function userNotFound(id: string): HangarError {
  return new HangarError('USER_NOT_FOUND', `user ${id} does not exist`, { userId: id });
}

export class UserRepository {
  constructor(private readonly prisma: PrismaClient) {}

  count(): Promise<number> {
    return this.prisma.user.count();
  }

  async list(): Promise<User[]> {
    const rows = await this.prisma.user.findMany({ orderBy: { email: 'asc' } });
    return rows.map(toUser);
  }

  async find(id: string): Promise<User | null> {
    const row = await this.prisma.user.findUnique({ where: { id } });
    return row ? toUser(row) : null;
  }

  async get(id: string): Promise<User> {
    const user = await this.find(id);
    if (!user) throw userNotFound(id);
    return user;
  }

  async credentials(email: string): Promise<UserCredentials | null> {
    const row = await this.prisma.user.findUnique({ where: { email: email.toLowerCase() } });
    return row ? { user: toUser(row), passwordHash: row.passwordHash } : null;
  }

  async passwordHash(id: string): Promise<string> {
    const row = await this.prisma.user.findUnique({ where: { id }, select: { passwordHash: true } });
    if (!row) throw userNotFound(id);
    return row.passwordHash;
  }

  async create(input: {
    email: string;
    name: string;
    passwordHash: string;
    isAdmin?: boolean;
    // Memberships to create with the user, in the same transaction.
    memberships?: { projectId: string; role: Role }[];
  }): Promise<User> {
    try {
      const row = await this.prisma.user.create({
        data: {
          email: input.email.toLowerCase(),
          name: input.name,
          passwordHash: input.passwordHash,
          isAdmin: input.isAdmin ?? false,
          memberships: { create: input.memberships ?? [] },
        },
      });
      return toUser(row);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new HangarError('USER_EXISTS', `a user with email ${input.email} exists already`, {
          field: 'email',
        });
      }
      throw error;
    }
  }

  async update(
    id: string,
    changes: { name?: string; passwordHash?: string; isAdmin?: boolean; disabled?: boolean },
  ): Promise<User> {
    const { count } = await this.prisma.user.updateMany({
      where: { id },
      data: {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.passwordHash !== undefined ? { passwordHash: changes.passwordHash } : {}),
        ...(changes.isAdmin !== undefined ? { isAdmin: changes.isAdmin } : {}),
        ...(changes.disabled !== undefined ? { disabledAt: changes.disabled ? new Date() : null } : {}),
      },
    });
    if (count === 0) throw userNotFound(id);
    return this.get(id);
  }

  async recordLogin(id: string): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { lastLoginAt: new Date() } });
  }

  async memberships(userId: string): Promise<MembershipRecord[]> {
    const rows = await this.prisma.projectMember.findMany({
      where: { userId },
      include: { project: true },
      orderBy: { project: { slug: 'asc' } },
    });
    return rows.map((row) => ({
      projectId: row.projectId,
      slug: row.project.slug,
      name: row.project.name,
      createdAt: row.project.createdAt.toISOString(),
      routingStrategy: row.project.routingStrategy as RoutingStrategy | null,
      role: row.role,
    }));
  }

  async members(projectId: string): Promise<Member[]> {
    const rows = await this.prisma.projectMember.findMany({
      where: { projectId },
      include: { user: true },
      orderBy: { user: { email: 'asc' } },
    });
    return rows.map((row) => ({
      user: { id: row.user.id, email: row.user.email, name: row.user.name },
      role: row.role,
      createdAt: row.createdAt.toISOString(),
    }));
  }

  async setMember(projectId: string, userId: string, role: Role): Promise<Member> {
    await this.get(userId);
    const row = await this.prisma.projectMember.upsert({
      where: { projectId_userId: { projectId, userId } },
      create: { projectId, userId, role },
      update: { role },
      include: { user: true },
    });
    return {
      user: { id: row.user.id, email: row.user.email, name: row.user.name },
      role: row.role,
      createdAt: row.createdAt.toISOString(),
    };
  }

  // True when there was a membership to remove.
  async removeMember(projectId: string, userId: string): Promise<boolean> {
    const { count } = await this.prisma.projectMember.deleteMany({ where: { projectId, userId } });
    return count > 0;
  }
}
