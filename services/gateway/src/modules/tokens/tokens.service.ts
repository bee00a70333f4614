import { Injectable } from '@nestjs/common';
import { displayPrefix, randomSecret, sha256Hex, type Principal } from '@hangar/auth';
import {
  API_TOKEN_PREFIX,
  HangarError,
  roleAtLeast,
  type ApiToken,
  type CreateApiTokenRequest,
  type CreatedApiToken,
} from '@hangar/contracts';
import { ApiTokenRepository, tokenNotFound } from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';
import { LiveSockets } from '../../common/live-sockets';

const DEFAULT_EXPIRY_DAYS = 90;

// API tokens for scripts: made by signed-in users, never with more than their own role, shown
// once and stored as a hash.
@Injectable()
export class TokensService {
  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly audit: AuditTrail,
    private readonly sockets: LiveSockets,
  ) {}

  // Admins see every token of the project, operators their own.
  async list(principal: Principal, slug?: string): Promise<ApiToken[]> {
    const project = principal.project(slug);
    const access = principal.require(project.id, 'operator');
    if (access.role === 'admin') return this.tokens.list(project.id);
    return principal.user ? this.tokens.list(project.id, principal.user.id) : [];
  }

  async create(
    principal: Principal,
    slug: string | undefined,
    input: CreateApiTokenRequest,
  ): Promise<CreatedApiToken> {
    const project = principal.project(slug);
    const access = principal.require(project.id, 'operator');
    if (!principal.user) {
      throw new HangarError('FORBIDDEN', 'API tokens cannot make tokens; sign in as a user to make one');
    }
    const role = input.role ?? access.role;
    if (!roleAtLeast(access.role, role)) {
      throw new HangarError(
        'FORBIDDEN',
        `you are ${access.role} in "${project.slug}": a token cannot be ${role}`,
        {
          field: 'role',
        },
      );
    }
    const days = input.expiresInDays === undefined ? DEFAULT_EXPIRY_DAYS : input.expiresInDays;
    const expiresAt = days === null ? null : new Date(Date.now() + days * 86_400_000);
    const token = randomSecret(API_TOKEN_PREFIX);
    const created = await this.tokens.create({
      projectId: project.id,
      name: input.name,
      prefix: displayPrefix(token),
      hash: sha256Hex(token),
      role,
      expiresAt,
      createdById: principal.user.id,
    });
    this.audit.touched({
      projectId: project.id,
      target: { type: 'token', id: created.id },
      details: { name: created.name, role, expiresAt: created.expiresAt },
    });
    return { ...created, token };
  }

  // Admins revoke any token of their project; users their own; a token itself.
  async revoke(principal: Principal, id: string): Promise<ApiToken> {
    const found = await this.tokens.find(id, principal.projectIds);
    if (!found) throw tokenNotFound(id);
    const own =
      (principal.user !== null && found.createdById === principal.user.id) || principal.token?.id === id;
    if (!own) principal.require(found.projectId, 'admin');
    const revoked = await this.tokens.revoke(id);
    this.sockets.disconnect(`token:${id}`);
    this.audit.touched({
      projectId: found.projectId,
      target: { type: 'token', id },
      details: { name: found.name },
    });
    return revoked;
  }
}
