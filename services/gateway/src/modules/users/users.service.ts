import { Injectable } from '@nestjs/common';
import { hashPassword, verifyPassword, type Principal } from '@hangar/auth';
import { HangarError, type CreateUserRequest, type UpdateUserRequest, type User } from '@hangar/contracts';
import { SessionRepository, UserRepository, userNotFound } from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';
import { LiveSockets } from '../../common/live-sockets';

// Users are managed by instance administrators; everyone may read and change their own name
// and password.
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly audit: AuditTrail,
    private readonly sockets: LiveSockets,
  ) {}

  list(principal: Principal): Promise<User[]> {
    principal.requireInstanceAdmin();
    return this.users.list();
  }

  async create(principal: Principal, input: CreateUserRequest): Promise<User> {
    principal.requireInstanceAdmin();
    const user = await this.users.create({
      email: input.email,
      name: input.name,
      passwordHash: await hashPassword(input.password),
      isAdmin: input.isAdmin ?? false,
    });
    this.audit.touched({
      target: { type: 'user', id: user.id },
      details: { email: user.email, isAdmin: user.isAdmin },
    });
    return user;
  }

  // Someone else's user is invisible (404) to all but instance administrators.
  async get(principal: Principal, id: string): Promise<User> {
    if (principal.user?.id !== id && !principal.isInstanceAdmin) throw userNotFound(id);
    return this.users.get(id);
  }

  async update(principal: Principal, id: string, input: UpdateUserRequest): Promise<User> {
    const self = principal.user?.id === id;
    if (!self && !principal.isInstanceAdmin) throw userNotFound(id);
    if ((input.isAdmin !== undefined || input.disabled !== undefined) && !principal.isInstanceAdmin) {
      throw new HangarError('FORBIDDEN', 'only instance administrators may change isAdmin or disabled', {
        field: input.isAdmin !== undefined ? 'isAdmin' : 'disabled',
      });
    }
    if (self && (input.isAdmin === false || input.disabled === true)) {
      throw new HangarError('FORBIDDEN', 'you cannot take away your own admin rights or disable yourself', {
        field: input.isAdmin === false ? 'isAdmin' : 'disabled',
      });
    }
    if (input.password !== undefined && self) {
      const current = await this.users.passwordHash(id);
      if (input.currentPassword === undefined || !(await verifyPassword(current, input.currentPassword))) {
        throw new HangarError('INVALID_CREDENTIALS', 'currentPassword is wrong or missing', {
          field: 'currentPassword',
        });
      }
    }
    const user = await this.users.update(id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.password !== undefined ? { passwordHash: await hashPassword(input.password) } : {}),
      ...(input.isAdmin !== undefined ? { isAdmin: input.isAdmin } : {}),
      ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
    });
    // A new password ends every session, and their live connections; a disabled user's tokens
    // stop too (the authenticator refuses them), so every connection of theirs closes.
    if (input.password !== undefined || input.disabled === true) {
      const ended = await this.sessions.revokeAllOf(id);
      if (input.disabled === true) this.sockets.disconnect(`user:${id}`);
      else for (const hash of ended) this.sockets.disconnect(`session:${hash}`);
    }
    this.audit.touched({
      target: { type: 'user', id },
      details: {
        changed: Object.keys(input).filter((field) => field !== 'currentPassword'),
      },
    });
    return user;
  }
}
