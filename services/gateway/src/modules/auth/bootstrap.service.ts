import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { displayPrefix, hashPassword, sha256Hex } from '@hangar/auth';
import { HangarError } from '@hangar/contracts';
import { ApiTokenRepository, AuditRepository, DEFAULT_PROJECT_ID, UserRepository } from '@hangar/db';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

const SYSTEM = { type: 'system' as const, id: null, label: 'gateway bootstrap' };

// The first administrator comes from the environment on the first start (no users yet), and
// HANGAR_ADMIN_TOKEN is registered as an admin token of the default project. Both are
// idempotent, so every replica may run them.
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapService.name);

  constructor(
    private readonly users: UserRepository,
    private readonly tokens: ApiTokenRepository,
    private readonly audit: AuditRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onApplicationBootstrap() {
    await this.firstAdmin();
    await this.bootstrapToken();
  }

  private async firstAdmin() {
    const { HANGAR_ADMIN_EMAIL: email, HANGAR_ADMIN_PASSWORD: password } = this.config;
    if ((await this.users.count()) > 0) return;
    if (!email || !password) {
      if (!this.config.HANGAR_ADMIN_TOKEN)
        this.logger.warn(
          'no users yet, so nobody can sign in: set HANGAR_ADMIN_EMAIL and HANGAR_ADMIN_PASSWORD ' +
            '(or HANGAR_ADMIN_TOKEN) and restart the gateway',
        );
      return;
    }
    try {
      const user = await this.users.create({
        email,
        name: 'Administrator',
        passwordHash: await hashPassword(password),
        isAdmin: true,
        memberships: [{ projectId: DEFAULT_PROJECT_ID, role: 'admin' }],
      });
      await this.audit.record({
        actor: SYSTEM,
        action: 'user.create',
        target: { type: 'user', id: user.id },
        details: { email, isAdmin: true, from: 'HANGAR_ADMIN_EMAIL' },
      });
      this.logger.log(`created the first administrator, ${email}`);
    } catch (error) {
      // Another replica created it first.
      if (!(error instanceof HangarError && error.code === 'USER_EXISTS')) throw error;
    }
  }

  private async bootstrapToken() {
    const token = this.config.HANGAR_ADMIN_TOKEN;
    if (!token) return;
    const created = await this.tokens.ensure({
      projectId: DEFAULT_PROJECT_ID,
      name: 'bootstrap (HANGAR_ADMIN_TOKEN)',
      prefix: displayPrefix(token),
      hash: sha256Hex(token),
      role: 'admin',
    });
    if (!created) return;
    await this.audit.record({
      projectId: DEFAULT_PROJECT_ID,
      actor: SYSTEM,
      action: 'token.create',
      details: { prefix: displayPrefix(token), role: 'admin', from: 'HANGAR_ADMIN_TOKEN' },
    });
    this.logger.log(
      `registered HANGAR_ADMIN_TOKEN (${displayPrefix(token)}…) as an admin token of the default project`,
    );
  }
}
