import { Inject, Injectable } from '@nestjs/common';
import type { AgentProvider } from '@hangar/agents';
import type { AgentAccess, AgentAccessProvider, ReservedAccess } from '../endpoints/agent-access';
import { mcpUrl, modelBaseUrl, proxyUrl } from '../endpoints/endpoint-urls';
import { TASK_POD_CONFIG, type TaskPodConfig } from '../../task-pod.config';

export const TASK_TOKEN = Symbol('TASK_TOKEN');

// A task pod's agent: the attempt's token (the pod's, from its Job's Secret) is its API key on
// the runner's model gateway and its credential on the runner's egress proxy, the pod's only way
// out besides DNS and the git hosts (the chart's NetworkPolicy). Nothing to release: the
// runner revokes the token when the attempt finishes.
@Injectable()
export class PodAgentAccess implements AgentAccessProvider {
  constructor(
    @Inject(TASK_TOKEN) private readonly token: string,
    @Inject(TASK_POD_CONFIG) private readonly config: TaskPodConfig,
  ) {}

  open(_task: unknown, _attempt: number, provider: AgentProvider): Promise<AgentAccess> {
    return Promise.resolve({ ...this.endpoints(provider), release: () => Promise.resolve() });
  }

  // A warm pod's CLI starts with the pod's credential before its attempt exists: the controller
  // issues it to the attempt it gives the pod (docs/performance.md), nothing is left to grant here.
  reserve(provider: AgentProvider): ReservedAccess {
    return { ...this.endpoints(provider), grant: () => this.open(null, 0, provider) };
  }

  private endpoints(provider: AgentProvider) {
    const runnerUrl = this.config.RUNNER_TASK_API_URL;
    return {
      token: this.token,
      modelBaseUrl: modelBaseUrl(runnerUrl, provider),
      mcpUrl: mcpUrl(runnerUrl),
      proxyUrl: proxyUrl(runnerUrl, this.token),
    };
  }
}
