import { Inject, Injectable } from '@nestjs/common';
import type { Task } from '@hangar/contracts';
import {
  AttemptTokenRepository,
  ProfileRepository,
  ProjectGitHostRepository,
  type AttemptGrant,
  type AttemptTokenRefusal,
} from '@hangar/db';
import { gitHostPolicy, type GitHostPolicy } from '@hangar/workspaces';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';

// Where an attempt's agent may connect through the runner's egress proxy.
export interface EgressRules {
  // The project's git hosts (or the installation's).
  gitHosts: GitHostPolicy;
  // The installation's (GIT_ALLOWED_HOSTS): the operator's word. A git host it allows too is
  // reached whatever it resolves to; any other only on public addresses, so a project admin
  // cannot open the runner's network (PostgreSQL on 127.0.0.1) to agents by listing it.
  installationGitHosts: GitHostPolicy;
  // The profile allows the internet: any other host whose every address is public.
  internet: boolean;
}

export type AttemptAccess = { ok: true; grant: AttemptGrant } | { ok: false; refusal: AttemptTokenRefusal };

export const REFUSAL_TEXT: Readonly<Record<AttemptTokenRefusal, string>> = {
  unknown: 'this is not a credential of any task attempt',
  expired: "the attempt's credential has expired",
  revoked: "the attempt's credential was revoked",
  'attempt-ended': 'the attempt this credential was issued for has ended',
};

// The one credential of a task attempt: issued when the attempt starts (or its Job is made),
// checked on every call an agent makes to the runner, revoked when the attempt ends.
@Injectable()
export class AttemptCredentials {
  constructor(
    private readonly tokens: AttemptTokenRepository,
    private readonly profiles: ProfileRepository,
    private readonly gitHosts: ProjectGitHostRepository,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  // Lives at most as long as the attempt may (its timeout, plus a grace for preparing the
  // workspace or, for a Job, waiting to be scheduled); revoked sooner when it ends.
  // `token`: one made ahead (newAttemptToken) for a warm CLI, bound to the attempt now.
  issue(
    task: Pick<Task, 'id' | 'timeoutSeconds'>,
    attempt: number,
    provider: string,
    token?: string,
  ): Promise<string> {
    return this.tokens.issue({
      taskId: task.id,
      attempt,
      provider,
      expiresAt: this.expiry(task),
      ...(token ? { token } : {}),
    });
  }

  // When a credential issued now for an attempt of `task` expires (a warm Job's is issued with
  // its assignment, by the warm pods' repository).
  expiry(task: Pick<Task, 'timeoutSeconds'>): Date {
    const seconds = task.timeoutSeconds + this.config.RUNNER_ATTEMPT_TOKEN_GRACE_SECONDS;
    return new Date(Date.now() + seconds * 1000);
  }

  async revoke(taskId: string, attempt: number): Promise<void> {
    await this.tokens.revoke(taskId, attempt);
  }

  check(token: string, options: { claimable?: boolean; ended?: boolean } = {}): Promise<AttemptAccess> {
    return this.tokens.check(token, options);
  }

  async egressRules(grant: AttemptGrant): Promise<EgressRules> {
    const [profile, hosts] = await Promise.all([
      this.profiles.ofTask(grant.taskId),
      this.gitHosts.listForSlug(grant.task.project),
    ]);
    const installation = {
      allowedHosts: this.config.GIT_ALLOWED_HOSTS,
      credentials: this.config.GIT_CREDENTIALS,
    };
    return {
      gitHosts: gitHostPolicy(hosts, installation),
      installationGitHosts: gitHostPolicy([], installation),
      internet: profile.internetAccess,
    };
  }
}
