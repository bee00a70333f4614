import { Buffer } from 'node:buffer';
import path from 'node:path';
import type { AgentPermissionMode, AgentRunOption, AgentRunSpec } from '../agent-adapter';
import { type AgentInvocation, DEFAULT_AGENT_PATH, MAX_PROMPT_ARG_BYTES } from '../agent-invocation';
import { resolveCodexBinary } from './codex-binary';

export const CODEX_PROVIDER_ID = 'hangar';
// In the run's home: `--output-schema` takes a file.
export const CODEX_OUTPUT_SCHEMA_FILE = 'output-schema.json';
// In the run's home (CODEX_HOME): the settings `-c` would show on the command line.
export const CODEX_CONFIG_FILE = 'config.toml';
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export const CODEX_IGNORED_OPTIONS: Readonly<Partial<Record<AgentRunOption, string>>> = {
  maxTurns: 'codex exec runs one turn and has no limit on the tool calls inside it',
  allowedTools: 'codex has no per-tool allow list; the sandbox mode decides what commands may do',
  disallowedTools: 'codex has no per-tool deny list; the sandbox mode decides what commands may do',
  mcpConfigPath: 'codex reads MCP servers only from config.toml [mcp_servers], not a Claude-style JSON file',
  approvals:
    'codex exec has no hook that could ask a person before a tool call (Hangar refuses such a profile: docs/governance.md)',
};

// `codex exec` never asks for approval; the sandbox decides what a command may touch. Inside
// Hangar's sandbox, Codex's own (bubblewrap too) cannot nest and is replaced by it: Hangar mounts
// the workspace read-only for plan.
function sandboxArgs(mode: AgentPermissionMode, sandboxed: boolean): string[] {
  if (sandboxed && mode !== 'bypassPermissions') return ['--sandbox', 'danger-full-access'];
  switch (mode) {
    case 'bypassPermissions':
      return ['--dangerously-bypass-approvals-and-sandbox'];
    case 'plan':
      return ['--sandbox', 'read-only'];
    case 'acceptEdits':
    case 'auto':
    case 'dontAsk':
    case 'manual':
      return ['--sandbox', 'workspace-write'];
  }
}

// `-c key=value` parses value as TOML; a JSON string is a valid TOML basic string.
function config(key: string, value: string | boolean): string[] {
  return ['-c', `${key}=${typeof value === 'string' ? JSON.stringify(value) : String(value)}`];
}

// Codex's OpenTelemetry (its config's [otel]): events (logs), spans and metrics over OTLP/HTTP in
// protobuf. In the run's config.toml, not `-c`: the exporters' header holds the attempt's
// credential, and a command line is anyone's to read on the host (`ps`). (A JSON string is a
// valid TOML basic string.)
function telemetryToml({ endpoint, token, logContent }: NonNullable<AgentRunSpec['telemetryExport']>) {
  const exporter = (name: string, signal: 'logs' | 'traces' | 'metrics') =>
    [
      `[otel.${name}.otlp-http]`,
      `endpoint = ${JSON.stringify(`${endpoint}/v1/${signal}`)}`,
      'protocol = "binary"',
      `headers = { Authorization = ${JSON.stringify(`Bearer ${token}`)} }`,
    ].join('\n');
  return `${[
    `[otel]\nlog_user_prompt = ${String(logContent)}`,
    exporter('exporter', 'logs'),
    exporter('trace_exporter', 'traces'),
    exporter('metrics_exporter', 'metrics'),
  ].join('\n\n')}\n`;
}

export function buildCodexInvocation(spec: AgentRunSpec): AgentInvocation {
  const provider = `model_providers.${CODEX_PROVIDER_ID}`;
  const args = [
    'exec',
    '--json',
    '--color',
    'never',
    // Workspaces are plain directories until the task checks out a repository.
    '--skip-git-repo-check',
    ...sandboxArgs(spec.permissionMode ?? 'acceptEdits', spec.sandboxed ?? false),
    // A provider of our own: the base URL and key come from the spec, never from a login.
    ...config('model_provider', CODEX_PROVIDER_ID),
    ...config(`${provider}.name`, 'Hangar'),
    ...config(`${provider}.base_url`, spec.baseUrl ?? OPENAI_BASE_URL),
    ...config(`${provider}.wire_api`, 'responses'),
    ...config(`${provider}.env_key`, 'OPENAI_API_KEY'),
    ...config('check_for_update_on_startup', false),
    ...config('analytics.enabled', false),
  ];
  if (spec.model) args.push('--model', spec.model);
  if (spec.appendSystemPrompt) args.push(...config('developer_instructions', spec.appendSystemPrompt));
  // An untrusted project's .codex/ (config, hooks, MCP servers, rules) is not loaded; AGENTS.md is.
  if (spec.trustRepositorySettings) args.push('--trust', '--dangerously-bypass-hook-trust');
  // The model is asked for a final message of this shape (the Responses API's json_schema format).
  const outputSchemaPath = path.join(spec.homeDir, CODEX_OUTPUT_SCHEMA_FILE);
  if (spec.outputSchema) args.push('--output-schema', outputSchemaPath);

  const promptViaStdin = Buffer.byteLength(spec.prompt) > MAX_PROMPT_ARG_BYTES;
  // `exec resume <id> <prompt>` continues a thread; `-` reads the prompt from stdin.
  if (spec.resumeSessionId) args.push('resume');
  args.push('--');
  if (spec.resumeSessionId) args.push(spec.resumeSessionId);
  args.push(promptViaStdin ? '-' : spec.prompt);

  const env: Record<string, string> = {
    PATH: spec.path ?? DEFAULT_AGENT_PATH,
    HOME: spec.homeDir,
    // Must exist already: the runner creates the home directory, so it is CODEX_HOME itself.
    CODEX_HOME: spec.homeDir,
    LANG: 'C.UTF-8',
    ...spec.env,
  };
  if (spec.apiKey) env['OPENAI_API_KEY'] = spec.apiKey;

  const invocation: AgentInvocation = { command: resolveCodexBinary(spec.binaryPath), args, env };
  if (promptViaStdin) invocation.stdin = spec.prompt;
  const files = [
    ...(spec.outputSchema
      ? [{ path: outputSchemaPath, content: `${JSON.stringify(spec.outputSchema)}\n` }]
      : []),
    ...(spec.telemetryExport
      ? [{ path: path.join(spec.homeDir, CODEX_CONFIG_FILE), content: telemetryToml(spec.telemetryExport) }]
      : []),
  ];
  if (files.length > 0) invocation.files = files;
  return invocation;
}
