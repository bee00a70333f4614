import type { AgentInvocation } from './agent-invocation';
import type { AgentOutputParser, AgentOutputParserOptions } from './agent-output.parser';
import type { AgentProvider } from './agent-provider';
import type { OutputSchema } from './output-schema';
import {
  buildClaudeInvocation,
  claudePromptInput,
  type ClaudePermissionMode,
} from './claude/claude-invocation';
import { ClaudeStreamParser } from './claude/claude-stream.parser';
import { buildCodexInvocation, CODEX_IGNORED_OPTIONS } from './codex/codex-invocation';
import { CodexStreamParser } from './codex/codex-stream.parser';
import {
  buildGeminiInvocation,
  GEMINI_HIDDEN_WORKSPACE_PATHS,
  GEMINI_IGNORED_OPTIONS,
} from './gemini/gemini-invocation';
import { GeminiStreamParser } from './gemini/gemini-stream.parser';

// Claude Code's permission modes are the vocabulary; the other CLIs map them (see each adapter).
export type AgentPermissionMode = ClaudePermissionMode;

// One agent run, whatever the CLI. The cwd is given to spawnAgent, not here.
export interface AgentRunSpec {
  prompt: string;
  // A directory of this run only; the CLI keeps its config, sessions and locks there.
  homeDir: string;
  // The model API's base URL as the CLI's SDK expects it (OpenAI's includes `/v1`);
  // scriptedModelBaseUrl(…, provider) builds the right one for the scripted model.
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  permissionMode?: AgentPermissionMode;
  maxTurns?: number;
  appendSystemPrompt?: string;
  allowedTools?: readonly string[];
  disallowedTools?: readonly string[];
  mcpConfigPath?: string;
  // Tool calls that wait for a person (docs/governance.md): the profile's patterns, asked through
  // `promptTool` (an MCP tool of a server in the MCP config). Claude Code only.
  approvals?: { patterns: readonly string[]; promptTool: string };
  resumeSessionId?: string;
  // The final answer must be a JSON object matching this schema: Claude Code's --json-schema,
  // Codex's --output-schema, an instruction after the prompt for the Gemini CLI.
  outputSchema?: OutputSchema;
  // Extra variables (trace context, proxies); everything else from the parent is withheld.
  env?: Readonly<Record<string, string>>;
  // The CLI's own OpenTelemetry for a CLI that reads it only from its config (Codex: [otel]):
  // OTLP/HTTP to `endpoint` (/v1/{traces,logs,metrics} appended) with the credential, prompts
  // logged only when `logContent`. Claude Code and the Gemini CLI get OTEL_* variables in `env`.
  telemetryExport?: { endpoint: string; token: string; logContent: boolean };
  // PATH for the agent and the commands it runs.
  path?: string;
  binaryPath?: string;
  // The CLI runs inside Hangar's sandbox (@hangar/sandbox): a CLI's own sandbox is then not
  // nested inside it (Codex's needs user namespaces the outer sandbox does not allow).
  sandboxed?: boolean;
  // Load the repository's own settings (hooks, permission rules, MCP servers); by default a
  // repository brings code and instructions, and configuration comes only from the profile.
  trustRepositorySettings?: boolean;
}

export type AgentRunOption = Exclude<
  keyof AgentRunSpec,
  'prompt' | 'homeDir' | 'sandboxed' | 'trustRepositorySettings' | 'telemetryExport'
>;

export interface AgentAdapter {
  readonly provider: AgentProvider;
  // Options this CLI cannot honour, each with the reason; every other option is honoured.
  readonly ignoredOptions: Readonly<Partial<Record<AgentRunOption, string>>>;
  // Folders of the workspace holding this CLI's repository configuration that its own flags
  // cannot keep it from loading: a sandbox covers them unless the profile trusts them.
  readonly repositoryConfigPaths: readonly string[];
  buildInvocation(spec: AgentRunSpec): AgentInvocation;
  // A CLI that can be started before its prompt is known (the runner's warm pool): the invocation
  // waits on stdin, and `promptInput` is what to write there. Claude Code only: Codex's and the
  // Gemini CLI's headless modes read their whole prompt before they start anything.
  readonly waitsForPrompt?: {
    buildInvocation: (spec: Omit<AgentRunSpec, 'prompt'>) => AgentInvocation;
    promptInput: (prompt: string) => string;
  };
  createParser(options?: AgentOutputParserOptions): AgentOutputParser;
}

const ADAPTERS: Readonly<Record<AgentProvider, AgentAdapter>> = {
  claude: {
    provider: 'claude',
    ignoredOptions: {},
    repositoryConfigPaths: [],
    buildInvocation: (spec) => buildClaudeInvocation(claudeSpec(spec)),
    waitsForPrompt: {
      buildInvocation: (spec) =>
        buildClaudeInvocation({ ...claudeSpec(spec), prompt: '', waitForPrompt: true }),
      promptInput: claudePromptInput,
    },
    createParser: (options) => new ClaudeStreamParser(options),
  },
  codex: {
    provider: 'codex',
    ignoredOptions: CODEX_IGNORED_OPTIONS,
    repositoryConfigPaths: [],
    buildInvocation: buildCodexInvocation,
    createParser: (options) => new CodexStreamParser(options),
  },
  gemini: {
    provider: 'gemini',
    ignoredOptions: GEMINI_IGNORED_OPTIONS,
    repositoryConfigPaths: GEMINI_HIDDEN_WORKSPACE_PATHS,
    buildInvocation: buildGeminiInvocation,
    createParser: (options) => new GeminiStreamParser(options),
  },
};

function claudeSpec<Spec extends Partial<AgentRunSpec>>({ mcpConfigPath, ...spec }: Spec) {
  return mcpConfigPath === undefined ? spec : { ...spec, mcpConfig: mcpConfigPath };
}

export function agentAdapterFor(provider: AgentProvider): AgentAdapter {
  return ADAPTERS[provider];
}

// The options a spec sets that its CLI will ignore, with why: for a warning in the task's log.
export function ignoredRunOptions(
  adapter: AgentAdapter,
  spec: AgentRunSpec,
): { option: AgentRunOption; reason: string }[] {
  return Object.entries(adapter.ignoredOptions).flatMap(([option, reason]) => {
    const value: unknown = spec[option as AgentRunOption];
    const set = Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '';
    return set && reason ? [{ option: option as AgentRunOption, reason }] : [];
  });
}
