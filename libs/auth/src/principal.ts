import {
  HangarError,
  ROLES,
  roleAtLeast,
  type Me,
  type Role,
  type RoutingStrategy,
  type User,
} from '@hangar/contracts';

export interface ProjectAccess {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
  routingStrategy: RoutingStrategy | null;
  role: Role;
}

export interface Actor {
  type: 'user' | 'token';
  id: string;
  // How the audit log and error messages name it: the user's email, or `token <name> (<prefix>…)`.
  label: string;
}

// Who is calling and what it may do where. Every door (REST, Socket.IO) builds one per request
// and asks it before touching anything of a project.
export class Principal {
  private readonly byId: Map<string, ProjectAccess>;

  constructor(
    readonly actor: Actor,
    readonly projects: readonly ProjectAccess[],
    readonly user: User | null,
    // A token's maker, when a user made it (the bootstrap's token has none).
    readonly token: { id: string; name: string; prefix: string; creatorId: string | null } | null,
  ) {
    this.byId = new Map(projects.map((project) => [project.id, project]));
  }

  get isInstanceAdmin(): boolean {
    return this.user?.isAdmin === true;
  }

  // Whom a task or workflow run this caller starts is recorded as started by (docs/governance.md):
  // the user, or a token and its maker.
  get submitter(): { userId: string | null; tokenId: string | null } {
    return { userId: this.user?.id ?? this.token?.creatorId ?? null, tokenId: this.token?.id ?? null };
  }

  get projectIds(): string[] {
    return this.projects.map((project) => project.id);
  }

  roleIn(projectId: string): Role | undefined {
    return this.byId.get(projectId)?.role;
  }

  // The project a request names by slug, or the caller's only one.
  project(slug?: string): ProjectAccess {
    if (slug !== undefined) {
      const named = this.projects.find((project) => project.slug === slug);
      if (!named) throw projectNotVisible(slug);
      return named;
    }
    const [only, ...others] = this.projects;
    if (only && others.length === 0) return only;
    if (!only) throw new HangarError('FORBIDDEN', `${this.actor.label} is not a member of any project`);
    throw new HangarError(
      'PROJECT_REQUIRED',
      `you can see several projects (${this.projects.map((project) => project.slug).join(', ')}): ` +
        'name one with ?project=<slug>',
      { field: 'project' },
    );
  }

  // The projects a listing searches: the named one, or every one the caller can see.
  visibleIds(slug?: string): string[] {
    return slug === undefined ? this.projectIds : [this.project(slug).id];
  }

  // 403 for a member whose role is too low. A project the caller cannot see at all is a 404
  // (nothing is told about it): callers look the object up within `projectIds` first.
  require(projectId: string, minimum: Role): ProjectAccess {
    const access = this.byId.get(projectId);
    if (!access) throw projectNotVisible(projectId);
    if (!roleAtLeast(access.role, minimum)) {
      throw new HangarError(
        'FORBIDDEN',
        `${this.actor.label} is ${article(access.role)} ${access.role} in project "${access.slug}"; ` +
          `this needs ${minimum} or more`,
        { required: minimum, role: access.role },
      );
    }
    return access;
  }

  // The most this caller may hand on (to a token) in a project.
  maxRole(projectId: string): Role {
    return this.roleIn(projectId) ?? ROLES[0];
  }

  requireInstanceAdmin(): void {
    if (!this.isInstanceAdmin) {
      throw new HangarError('FORBIDDEN', 'only instance administrators may do this', { required: 'isAdmin' });
    }
  }

  toMe(): Me {
    return {
      kind: this.actor.type,
      user: this.user,
      token: this.token,
      projects: this.projects.map((project) => ({ ...project })),
    };
  }
}

function article(role: Role): string {
  return role === 'admin' || role === 'operator' ? 'an' : 'a';
}

export function projectNotVisible(slug: string): HangarError {
  return new HangarError('PROJECT_NOT_FOUND', `project "${slug}" does not exist or is not yours`, {
    field: 'project',
  });
}

// The Socket.IO rooms a live connection joins, so that the gateway can close it (LiveSockets)
// when what let it in ends: its token revoked, its session signed out, its user (or the maker of
// its token) disabled or taken out of a project.
export type LiveRoom = `token:${string}` | `user:${string}` | `session:${string}`;

export function liveRooms(principal: Principal, sessionHash?: string): LiveRoom[] {
  const rooms: LiveRoom[] = [];
  if (principal.token) rooms.push(`token:${principal.token.id}`);
  const userId = principal.user?.id ?? principal.token?.creatorId;
  if (userId) rooms.push(`user:${userId}`);
  if (sessionHash) rooms.push(`session:${sessionHash}`);
  return rooms;
}
