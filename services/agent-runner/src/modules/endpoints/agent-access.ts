import type { AgentProvider } from '@hangar/agents';
import type { Task } from '@hangar/contracts';

// What one attempt's agent gets to reach the platform: its credential, and where the runner's
// endpoints are from where it runs. Released (the credential revoked) when the attempt ends.
export interface AgentAccess {
  token: string;
  modelBaseUrl: string;
  // Hangar's MCP server (/mcp), for a profile that delegates.
  mcpUrl: string;
  // The egress proxy, with the credential in it (HTTPS_PROXY); none where egress is not filtered.
  proxyUrl?: string;
  release(): Promise<void>;
}

export const AGENT_ACCESS = Symbol('AGENT_ACCESS');

export interface AgentAccessProvider {
  open(task: Task, attempt: number, provider: AgentProvider, sandboxed: boolean): Promise<AgentAccess>;
}
