import { Inject, Injectable } from '@nestjs/common';
import { Authenticator, randomSecret, sha256Hex, verifyPassword, type Principal } from '@hangar/auth';
import { HangarError, type LoginRequest } from '@hangar/contracts';
import { SessionRepository, UserRepository } from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';
import { LiveSockets } from '../../common/live-sockets';
import { SignInThrottle } from '../../common/rate-limit/sign-in-throttle';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

export interface SignedIn {
  principal: Principal;
  sessionId: string;
  expiresAt: Date;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditTrail,
    private readonly sockets: LiveSockets,
    private readonly throttle: SignInThrottle,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async login(input: LoginRequest, from: { ip: string; userAgent?: string | undefined }): Promise<SignedIn> {
    const attempt = await this.throttle.begin(input.email, from.ip);
    const found = await this.users.credentials(input.email);
    const valid = await verifyPassword(found?.passwordHash ?? null, input.password);
    if (!found || !valid || found.user.disabled) {
      await this.audit.record({
        actor: { type: 'user', id: found?.user.id ?? null, label: input.email },
        action: 'auth.login_failed',
        details: { reason: !found || !valid ? 'wrong email or password' : 'user disabled' },
      });
      // One answer for all three: it does not tell which emails exist.
      throw new HangarError('INVALID_CREDENTIALS', 'wrong email or password, or the user is disabled');
    }
    await attempt.succeeded();
    const sessionId = randomSecret('hgs_');
    const expiresAt = new Date(Date.now() + this.config.SESSION_TTL_HOURS * 3_600_000);
    await this.sessions.create({
      userId: found.user.id,
      hash: sha256Hex(sessionId),
      expiresAt,
      ip: from.ip,
      userAgent: from.userAgent,
    });
    await this.users.recordLogin(found.user.id);
    const principal = await this.authenticator.forUser(found.user);
    return { principal, sessionId, expiresAt };
  }

  async logout(sessionId: string | undefined): Promise<void> {
    if (!sessionId) return;
    const hash = sha256Hex(sessionId);
    await this.sessions.revoke(hash);
    // The dashboard's live connection of this session ends with it (other sessions stay).
    this.sockets.disconnect(`session:${hash}`);
  }
}
