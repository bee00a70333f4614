import type { AgentProvider } from '@hangar/agents';
import type { Task } from '@hangar/contracts';

// What one attempt's agent gets to reach the platform: its credential, and where the runner's
// endpoints are from where it runs. Released (the credential revoked) when the attempt ends.
export interface AgentAccess {
  token: string;
  modelBaseUrl: string;
  // Hangar's MCP server (/mcp), for a profile that delegates.
  mcpUrl: string;
  // Where its OpenTelemetry exporters send OTLP (the relay to the metrics service); none where
  // the runner relays no telemetry.
  otlpUrl?: string;
  // The egress proxy, with the credential in it (HTTPS_PROXY); none where egress is not filtered.
  proxyUrl?: string;
  release(): Promise<void>;
}

export const AGENT_ACCESS = Symbol('AGENT_ACCESS');

// Access made ahead of its attempt, for a warm CLI: the credential it is started with is nobody's
// (every call with it is refused) until `grant` issues it to the attempt that takes the CLI.
export interface ReservedAccess extends Omit<AgentAccess, 'release'> {
  grant(task: Task, attempt: number): Promise<AgentAccess>;
}

export interface AgentAccessProvider {
  open(task: Task, attempt: number, provider: AgentProvider, sandboxed: boolean): Promise<AgentAccess>;
  // Only where warm CLIs run (the runner's own sandboxes).
  reserve?(provider: AgentProvider, sandboxed: boolean): ReservedAccess;
}
