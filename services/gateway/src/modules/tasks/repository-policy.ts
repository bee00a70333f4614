import { Inject, Injectable } from '@nestjs/common';
import { HangarError } from '@hangar/contracts';
import { parseRepositorySpec } from '@hangar/workspaces';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// A task's repository and ref are checked here, before anything is recorded or queued: no
// option injection into git, no path outside the allowed roots, no credentials in URLs.
@Injectable()
export class RepositoryPolicy {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  check(input: { repository?: string; ref?: string }): void {
    if (input.repository === undefined) return;
    try {
      parseRepositorySpec(
        { repository: input.repository, ...(input.ref !== undefined ? { ref: input.ref } : {}) },
        { allowedLocalRoots: this.config.WORKSPACE_ALLOWED_LOCAL_ROOTS },
      );
    } catch (error) {
      const field = (error as { field?: string }).field ?? 'repository';
      const message = error instanceof Error ? error.message : String(error);
      throw new HangarError('INVALID_REPOSITORY', message, { field });
    }
  }
}
