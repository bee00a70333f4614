import { Injectable } from '@nestjs/common';
import type { AgentProvider } from '@hangar/agents';
import type { Task } from '@hangar/contracts';
import { SANDBOX_RUNNER_URL } from '@hangar/sandbox';
import { newAttemptToken } from '@hangar/db';
import type { AgentAccess, AgentAccessProvider, ReservedAccess } from './agent-access';
import { AttemptCredentials } from './attempt-credentials.service';
import { mcpUrl, otlpUrl, modelBaseUrl, proxyUrl } from './endpoint-urls';
import { RunnerEndpoints } from './runner-endpoints.server';

// A runner's own attempts: a credential issued here, the endpoints of this process (through the
// sandbox's bridge, or on TCP for a CLI outside a sandbox).
@Injectable()
export class LocalAgentAccess implements AgentAccessProvider {
  constructor(
    private readonly credentials: AttemptCredentials,
    private readonly endpoints: RunnerEndpoints,
  ) {}

  async open(task: Task, attempt: number, provider: AgentProvider, sandboxed: boolean): Promise<AgentAccess> {
    return this.reserve(provider, sandboxed).grant(task, attempt);
  }

  reserve(provider: AgentProvider, sandboxed: boolean): ReservedAccess {
    const token = newAttemptToken();
    const runnerUrl = sandboxed ? SANDBOX_RUNNER_URL : this.endpoints.url;
    const urls = {
      token,
      modelBaseUrl: modelBaseUrl(runnerUrl, provider),
      mcpUrl: mcpUrl(runnerUrl),
      ...(this.endpoints.relaysTelemetry ? { otlpUrl: otlpUrl(runnerUrl) } : {}),
      // Outside a sandbox nothing stops a CLI going around a proxy: none is offered.
      ...(sandboxed ? { proxyUrl: proxyUrl(runnerUrl, token) } : {}),
    };
    return {
      ...urls,
      grant: async (task, attempt) => {
        await this.credentials.issue(task, attempt, provider, token);
        return { ...urls, release: () => this.credentials.revoke(task.id, attempt) };
      },
    };
  }
}
