import { Inject, Injectable } from '@nestjs/common';
import { HangarError } from '@hangar/contracts';
import { ProjectGitHostRepository } from '@hangar/db';
import { gitHostPolicy, parseRepositorySpec } from '@hangar/workspaces';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// A task's repository and ref are checked here, before anything is recorded or queued: no
// option injection into git, no path outside the allowed roots, no credentials in URLs, and
// a remote repository only on a git host the project allows (its own list, else
// GIT_ALLOWED_HOSTS). Every door that starts a task or a conversation calls check().
@Injectable()
export class RepositoryPolicy {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly gitHosts: ProjectGitHostRepository,
  ) {}

  async check(projectId: string, input: { repository?: string; ref?: string }): Promise<void> {
    if (input.repository === undefined) return;
    const hosts = gitHostPolicy(await this.gitHosts.list(projectId), {
      allowedHosts: this.config.GIT_ALLOWED_HOSTS,
    });
    try {
      parseRepositorySpec(
        { repository: input.repository, ...(input.ref !== undefined ? { ref: input.ref } : {}) },
        { allowedLocalRoots: this.config.WORKSPACE_ALLOWED_LOCAL_ROOTS, hosts },
      );
    } catch (error) {
      const field = (error as { field?: string }).field ?? 'repository';
      const message = error instanceof Error ? error.message : String(error);
      throw new HangarError('INVALID_REPOSITORY', message, { field });
    }
  }
}
