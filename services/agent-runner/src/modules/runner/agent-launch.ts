import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  agentAdapterFor,
  agentRuntimePaths,
  prepareClaudeHome,
  type AgentAdapter,
  type AgentInvocation,
  type AgentPermissionMode,
  type AgentRunSpec,
} from '@hangar/agents';
import {
  APPROVAL_TOOL,
  HANGAR_MCP_SERVER,
  type AgentProfile,
  type Provider,
  type Task,
  type TraceContext,
} from '@hangar/contracts';
import { SANDBOX_HOME, SANDBOX_WORKSPACE } from '@hangar/sandbox';
import type { AgentAccess } from '../endpoints/agent-access';
import type { AgentSandbox } from '../sandbox/agent-sandbox';
import { MCP_CONFIG_FILE, writeMcpConfig } from './profile-files';

// How one agent CLI is started for a profile, whether for a claimed attempt (cold) or ahead of
// any task (the warm pool): one recipe, so a warm CLI is the very CLI a cold start would run.

export interface LaunchPlace {
  // On the host: the run's own home (new, made by prepareHome) and its workspace.
  homeDir: string;
  workspaceDir: string;
}

// Where the CLI sees its home and workspace: fixed paths inside the sandbox.
export function seenAs(sandbox: AgentSandbox, place: LaunchPlace): { home: string; workspace: string } {
  return sandbox.mode === 'bwrap'
    ? { home: SANDBOX_HOME, workspace: SANDBOX_WORKSPACE }
    : { home: place.homeDir, workspace: place.workspaceDir };
}

// A new home for every run: whatever an earlier attempt's agent left in its home (a link where
// the runner writes, a settings file) is gone before anything is written there.
export async function makeHome(homeDir: string): Promise<void> {
  await rm(homeDir, { recursive: true, force: true });
  await mkdir(homeDir, { recursive: true, mode: 0o700 });
}

// The profile's files in the home (subagents, skills, the repository's instructions reached
// from there) — everything that does not need the attempt's credential.
export async function prepareHome(
  profile: AgentProfile,
  place: LaunchPlace,
  sandbox: AgentSandbox,
): Promise<void> {
  if (profile.provider !== 'claude') return;
  await prepareClaudeHome({
    configDir: path.join(place.homeDir, '.claude'),
    workspace: place.workspaceDir,
    workspaceSeenAs: seenAs(sandbox, place).workspace,
    agents: profile.agents,
    skills: profile.skills,
    repositoryLoaded: profile.trustRepositorySettings,
  });
}

export interface LaunchRequest {
  profile: AgentProfile;
  access: Omit<AgentAccess, 'release'>;
  place: LaunchPlace;
  sandbox: AgentSandbox;
  claudeBin?: string | undefined;
  // Absent: the CLI is started before its prompt is known and waits for it (adapter.waitsForPrompt).
  prompt?: string;
  resumeSessionId?: string | null;
  outputSchema?: AgentRunSpec['outputSchema'] | null;
  // Who the CLI's own OpenTelemetry says it is (resource attributes), and the trace its spans
  // join (the attempt's span: TRACEPARENT); absent for a warm CLI, started before its task is
  // known (the relay still files what it sends under its task; its spans are a trace of their own).
  telemetry?: { task: Pick<Task, 'id' | 'project' | 'profile'>; trace?: TraceContext };
  // The command as it runs inside the sandbox, not wrapped in one: for a spare sandbox, already
  // made for the run (spare-sandboxes.ts).
  unwrapped?: boolean;
}

export interface Launch {
  adapter: AgentAdapter;
  spec: Omit<AgentRunSpec, 'prompt'>;
  invocation: AgentInvocation;
}

// Writes the run's --mcp-config (it holds the attempt's credential) and builds the invocation,
// wrapped in the sandbox (unless `unwrapped`).
export async function buildLaunch(request: LaunchRequest): Promise<Launch> {
  const { profile, access, place, sandbox } = request;
  const sandboxed = sandbox.mode === 'bwrap';
  const seen = seenAs(sandbox, place);
  const adapter = agentAdapterFor(profile.provider);
  // Written once the run has its credential: Hangar's MCP server is reached with it.
  const mcpConfig = await writeMcpConfig(
    place.homeDir,
    profile,
    delegates(profile) || asksApproval(profile) ? { url: access.mcpUrl, token: access.token } : undefined,
  );
  const binaryPath = request.claudeBin && profile.provider === 'claude' ? request.claudeBin : undefined;
  const spec: Omit<AgentRunSpec, 'prompt'> = {
    homeDir: seen.home,
    baseUrl: access.modelBaseUrl,
    apiKey: access.token,
    ...withEnv(
      access.proxyUrl ? proxyEnvironment(access.proxyUrl, access.modelBaseUrl) : {},
      access.otlpUrl
        ? telemetryEnvironment(
            { provider: profile.provider, telemetryContent: profile.telemetryContent },
            access.otlpUrl,
            access.token,
            request.telemetry,
          )
        : {},
    ),
    // Codex reads its exporters from its config only: the same relay, in its config.toml.
    ...(access.otlpUrl && profile.provider === 'codex'
      ? {
          telemetryExport: {
            endpoint: access.otlpUrl,
            token: access.token,
            logContent: profile.telemetryContent,
          },
        }
      : {}),
    ...(binaryPath ? { binaryPath } : {}),
    ...profileOptions(profile),
    ...(mcpConfig ? { mcpConfigPath: path.join(seen.home, MCP_CONFIG_FILE) } : {}),
    ...(request.resumeSessionId ? { resumeSessionId: request.resumeSessionId } : {}),
    // A workflow step's structured output: the result's text is the JSON the engine checks.
    ...(request.outputSchema ? { outputSchema: request.outputSchema } : {}),
    sandboxed,
    trustRepositorySettings: profile.trustRepositorySettings,
  };
  let invocation: AgentInvocation;
  if (request.prompt !== undefined) invocation = adapter.buildInvocation({ ...spec, prompt: request.prompt });
  else if (adapter.waitsForPrompt) invocation = adapter.waitsForPrompt.buildInvocation(spec);
  else throw new Error(`${profile.provider} cannot be started before its prompt`);
  if (sandboxed && !request.unwrapped) {
    invocation = sandbox.wrap(invocation, {
      workspace: place.workspaceDir,
      // A profile that only plans gets a workspace it cannot change, whatever the CLI.
      workspaceReadOnly: profile.permissionMode === 'plan',
      home: place.homeDir,
      ...(sandbox.runnerSocket ? { runnerSocket: sandbox.runnerSocket } : {}),
      readOnlyPaths: agentRuntimePaths(profile.provider, binaryPath),
      hiddenWorkspacePaths: profile.trustRepositorySettings ? [] : adapter.repositoryConfigPaths,
      // A CLI started before its prompt (a warm one) says when its sandbox is up.
      ...(request.prompt === undefined ? { startedAhead: true } : {}),
    });
  }
  return { adapter, spec, invocation };
}

// The way out of the sandbox or task pod for the agent's tools (git, package managers, curl): the
// runner's egress proxy. The model API, on the runner too, is reached directly.
function proxyEnvironment(proxyUrl: string, modelBaseUrl: string): Record<string, string> {
  const noProxy = [...new Set(['127.0.0.1', 'localhost', new URL(modelBaseUrl).hostname])].join(',');
  return {
    HTTPS_PROXY: proxyUrl,
    HTTP_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

// Whether the run gets Hangar's MCP server: only Claude Code reads the --mcp-config Hangar writes.
function delegates(profile: AgentProfile): boolean {
  return profile.delegation.enabled && profile.provider === 'claude';
}

// Whether some of the run's tool calls wait for a person: Claude Code asks Hangar's permission
// prompt tool for them (docs/governance.md); profiles of other CLIs cannot have approvals.
export function asksApproval(profile: AgentProfile): boolean {
  return profile.approvals.tools.length > 0 && profile.provider === 'claude';
}

const PERMISSION_PROMPT_TOOL = `mcp__${HANGAR_MCP_SERVER}__${APPROVAL_TOOL}`;

// What a profile asks of the CLI; unset fields leave the CLI's defaults.
function profileOptions(profile: AgentProfile) {
  // Headless, a tool the permission mode does not allow is refused: Hangar's own tools are
  // allowed wherever the profile delegates (Claude Code only: docs/delegation.md).
  const allowedTools = delegates(profile)
    ? [...profile.allowedTools, `mcp__${HANGAR_MCP_SERVER}`]
    : profile.allowedTools;
  // The permission prompt tool is the CLI's to call, never the model's.
  const disallowedTools = asksApproval(profile)
    ? [...profile.disallowedTools, PERMISSION_PROMPT_TOOL]
    : profile.disallowedTools;
  return {
    ...(profile.model ? { model: profile.model } : {}),
    ...(profile.permissionMode ? { permissionMode: profile.permissionMode as AgentPermissionMode } : {}),
    ...(profile.maxTurns ? { maxTurns: profile.maxTurns } : {}),
    ...(profile.appendSystemPrompt ? { appendSystemPrompt: profile.appendSystemPrompt } : {}),
    ...(allowedTools.length > 0 ? { allowedTools } : {}),
    ...(disallowedTools.length > 0 ? { disallowedTools } : {}),
    ...(asksApproval(profile)
      ? { approvals: { patterns: profile.approvals.tools, promptTool: PERMISSION_PROMPT_TOOL } }
      : {}),
  };
}

function withEnv(...parts: Record<string, string>[]): { env?: Record<string, string> } {
  const env = Object.assign({}, ...parts) as Record<string, string>;
  return Object.keys(env).length > 0 ? { env } : {};
}

// The agent CLI's own OpenTelemetry (docs/observability.md#the-agents-telemetry): its spans,
// events and metrics over OTLP/HTTP to the runner's relay, with the attempt's credential (the
// OpenTelemetry SDK's OTEL_EXPORTER_OTLP_HEADERS) and the task named in its resource. Prompts and
// tool inputs stay out of it unless the profile opts in (`telemetryContent`): Claude Code's
// OTEL_LOG_USER_PROMPTS and OTEL_LOG_TOOL_DETAILS, Gemini's GEMINI_TELEMETRY_LOG_PROMPTS. Codex
// takes only the resource and the trace from here (its exporters: `telemetryExport`).
function telemetryEnvironment(
  { provider, telemetryContent }: { provider: Provider; telemetryContent: boolean },
  otlpUrl: string,
  token: string,
  telemetry: LaunchRequest['telemetry'],
): Record<string, string> {
  const attributes: [string, string][] = telemetry
    ? [
        ['hangar.task_id', telemetry.task.id],
        ['hangar.project', telemetry.task.project],
        ['hangar.profile', telemetry.task.profile],
      ]
    : [];
  // What every CLI's SDK reads from the environment: the task as its resource, and its trace.
  const resource = {
    ...(telemetry
      ? {
          // W3C baggage-style list: values percent-encoded (a profile name is safe; a slug too).
          OTEL_RESOURCE_ATTRIBUTES: attributes
            .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
            .join(','),
        }
      : {}),
    // The CLI starts its spans in the trace it is given, under the attempt's span.
    ...(telemetry?.trace ? { TRACEPARENT: telemetry.trace.traceparent } : {}),
    ...(telemetry?.trace?.tracestate ? { TRACESTATE: telemetry.trace.tracestate } : {}),
  };
  // Codex's exporters and their credential are in its config (`telemetryExport`).
  if (provider === 'codex') return resource;
  const common = {
    ...resource,
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${token}`,
    // The resource from OTEL_RESOURCE_ATTRIBUTES only: the SDK's process detector would add the
    // CLI's command line (process.command_args), which holds the prompt when it is an argument.
    OTEL_NODE_RESOURCE_DETECTORS: 'env',
  };
  if (provider === 'gemini')
    return {
      // Gemini CLI's own switches (its docs/cli/telemetry.md); it appends /v1/<signal> itself.
      GEMINI_TELEMETRY_ENABLED: 'true',
      GEMINI_TELEMETRY_TARGET: 'local',
      GEMINI_TELEMETRY_OTLP_ENDPOINT: otlpUrl,
      GEMINI_TELEMETRY_OTLP_PROTOCOL: 'http',
      GEMINI_TELEMETRY_LOG_PROMPTS: telemetryContent ? 'true' : 'false',
      ...common,
    };
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    ...(telemetryContent ? { OTEL_LOG_USER_PROMPTS: '1', OTEL_LOG_TOOL_DETAILS: '1' } : {}),
    ...common,
  };
}
