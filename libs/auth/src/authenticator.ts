import { API_TOKEN_PATTERN, HangarError, ROLES, type Role, type User } from '@hangar/contracts';
import { ApiTokenRepository, ProjectRepository, SessionRepository, UserRepository } from '@hangar/db';
import { Principal, type ProjectAccess } from './principal';
import { sha256Hex } from './secrets';

// The dashboard's session cookie: read by the gateway and by the websocket-pool's handshake.
export const SESSION_COOKIE = 'hangar_session';
export const SESSION_ID_PATTERN = /^hgs_[A-Za-z0-9]{40}$/;

function unauthenticated(message: string): HangarError {
  return new HangarError('UNAUTHENTICATED', message);
}

function lower(a: Role, b: Role): Role {
  return ROLES[Math.min(ROLES.indexOf(a), ROLES.indexOf(b))] ?? 'viewer';
}

// Turns what a request presents (an API token, a session cookie) into a Principal, or says
// precisely why not. The one place that decides who a caller is.
export class Authenticator {
  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly projects: ProjectRepository,
  ) {}

  async fromToken(token: string, now = new Date()): Promise<Principal> {
    if (!API_TOKEN_PATTERN.test(token)) {
      throw unauthenticated('the bearer token is not a Hangar API token (they look like hgr_…)');
    }
    const grant = await this.tokens.grant(sha256Hex(token));
    if (!grant) throw unauthenticated('unknown API token');
    if (grant.revokedAt) throw unauthenticated(`API token "${grant.name}" was revoked`);
    if (grant.expiresAt && grant.expiresAt <= now) {
      throw unauthenticated(`API token "${grant.name}" expired at ${grant.expiresAt.toISOString()}`);
    }
    let role = grant.role;
    if (grant.creator) {
      if (grant.creator.disabled) throw unauthenticated(`the user of API token "${grant.name}" is disabled`);
      const creatorRole: Role | null = grant.creator.isAdmin ? 'admin' : grant.creator.role;
      if (creatorRole === null) {
        throw unauthenticated(`the user of API token "${grant.name}" left project "${grant.project.slug}"`);
      }
      role = lower(role, creatorRole);
    }
    await this.tokens.touch(grant.id, now);
    const project: ProjectAccess = { id: grant.projectId, ...grant.project, role };
    return new Principal(
      { type: 'token', id: grant.id, label: `token "${grant.name}" (${grant.prefix}…)` },
      [project],
      null,
      { id: grant.id, name: grant.name, prefix: grant.prefix, creatorId: grant.creator?.id ?? null },
    );
  }

  async fromSession(sessionId: string): Promise<Principal> {
    if (!SESSION_ID_PATTERN.test(sessionId))
      throw unauthenticated('the session cookie is not valid; sign in again');
    const session = await this.sessions.findActive(sha256Hex(sessionId));
    if (!session) throw unauthenticated('the session has ended; sign in again');
    return this.forUser(session.user);
  }

  // Instance administrators are admins of every project.
  async forUser(user: User): Promise<Principal> {
    const projects: ProjectAccess[] = user.isAdmin
      ? (await this.projects.all()).map((project) => ({ ...project, role: 'admin' as const }))
      : (await this.users.memberships(user.id)).map((membership) => ({
          id: membership.projectId,
          slug: membership.slug,
          name: membership.name,
          createdAt: membership.createdAt,
          routingStrategy: membership.routingStrategy,
          role: membership.role,
        }));
    return new Principal({ type: 'user', id: user.id, label: user.email }, projects, user, null);
  }
}
