import type { AgentProvider } from '@hangar/agents';
import { HANGAR_MCP_PATH } from '@hangar/contracts';

// Where an agent finds the runner's endpoints, from a base URL of the runner as it sees it (the
// sandbox's bridge, the runner's TCP address, or RUNNER_TASK_API_URL in a task pod).
export const MODEL_PATH = '/model';

// What a CLI's base URL carries after /model/<provider>: Codex's OpenAI provider expects /v1 in
// it (the upstream base URLs carry it too).
export const MODEL_BASE_PATHS: Readonly<Record<AgentProvider, string>> = {
  claude: '',
  codex: '/v1',
  gemini: '',
};

export function modelBaseUrl(runnerUrl: string, provider: AgentProvider): string {
  return `${runnerUrl.replace(/\/+$/, '')}${MODEL_PATH}/${provider}${MODEL_BASE_PATHS[provider]}`;
}

// The egress proxy, with the attempt's credential as its password (HTTPS_PROXY).
export function proxyUrl(runnerUrl: string, token: string): string {
  const url = new URL(runnerUrl);
  url.username = 'hangar';
  url.password = token;
  return url.toString().replace(/\/$/, '');
}

// Hangar's MCP server (delegation), as the agent reaches it.
export function mcpUrl(runnerUrl: string): string {
  return `${runnerUrl.replace(/\/+$/, '')}${HANGAR_MCP_PATH}`;
}

// Where an agent's OpenTelemetry exporters send OTLP (the relay to the metrics service).
export const OTLP_PATH = '/otlp';

export function otlpUrl(runnerUrl: string): string {
  return `${runnerUrl.replace(/\/+$/, '')}${OTLP_PATH}`;
}
