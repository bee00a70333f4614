import { Buffer } from 'node:buffer';
import path from 'node:path';
import type { AgentPermissionMode, AgentRunOption, AgentRunSpec } from '../agent-adapter';
import { type AgentInvocation, DEFAULT_AGENT_PATH, MAX_PROMPT_ARG_BYTES } from '../agent-invocation';
import { promptWithOutputSchema } from '../output-schema';
import { resolveGeminiScript } from './gemini-binary';

export const GEMINI_IGNORED_OPTIONS: Readonly<Partial<Record<AgentRunOption, string>>> = {
  appendSystemPrompt:
    'the Gemini CLI can only replace its system prompt (GEMINI_SYSTEM_MD), not append to it',
  mcpConfigPath: 'the Gemini CLI reads MCP servers only from settings.json (mcpServers)',
  approvals:
    'the Gemini CLI, headless, has no hook that could ask a person before a tool call (Hangar refuses such a profile: docs/governance.md)',
};

// Headless, the CLI leaves out every tool that would need an approval it cannot ask for.
function approvalMode(mode: AgentPermissionMode): string {
  switch (mode) {
    case 'bypassPermissions':
      return 'yolo';
    case 'acceptEdits':
      return 'auto_edit';
    case 'plan':
      return 'plan';
    case 'auto':
    case 'dontAsk':
    case 'manual':
      return 'default';
  }
}

// The CLI takes some options only from settings.json. A system settings file
// (GEMINI_CLI_SYSTEM_SETTINGS_PATH) is skipped unless it and every parent directory are owned by
// root and writable by no one else, so the user settings file of the per-run home is used.
export function geminiSettings(spec: AgentRunSpec): Record<string, unknown> {
  return {
    // API-key auth is what makes the CLI honour GOOGLE_GEMINI_BASE_URL; from the environment
    // alone the base URL selects a "gateway" auth that headless mode refuses.
    security: { auth: { selectedType: 'gemini-api-key' } },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    model: {
      skipNextSpeakerCheck: true,
      ...(spec.maxTurns === undefined ? {} : { maxSessionTurns: spec.maxTurns }),
    },
    ...(spec.disallowedTools?.length ? { tools: { exclude: [...spec.disallowedTools] } } : {}),
  };
}

// The repository's Gemini configuration; a sandbox covers it with an empty read-only folder.
export const GEMINI_HIDDEN_WORKSPACE_PATHS = ['.gemini'] as const;

export function geminiSettingsPath(homeDir: string): string {
  return path.join(homeDir, '.gemini', 'settings.json');
}

export function buildGeminiInvocation(spec: AgentRunSpec): AgentInvocation {
  const args = [
    resolveGeminiScript(spec.binaryPath),
    '--output-format',
    'stream-json',
    '--approval-mode',
    approvalMode(spec.permissionMode ?? 'acceptEdits'),
  ];
  if (spec.model) args.push('--model', spec.model);
  if (spec.allowedTools?.length) args.push('--allowed-tools', ...spec.allowedTools);
  if (spec.resumeSessionId) args.push('--resume', spec.resumeSessionId);

  // The CLI has no structured-output option: the prompt asks for the JSON.
  const prompt = spec.outputSchema ? promptWithOutputSchema(spec.prompt, spec.outputSchema) : spec.prompt;
  const promptViaStdin = Buffer.byteLength(prompt) > MAX_PROMPT_ARG_BYTES;
  // `--prompt=<text>` keeps a prompt that starts with "-" from reading as a flag. A long prompt
  // goes through stdin, to which -p appends its (empty) text.
  args.push(`--prompt=${promptViaStdin ? '' : prompt}`);

  const env: Record<string, string> = {
    PATH: spec.path ?? DEFAULT_AGENT_PATH,
    HOME: spec.homeDir,
    GEMINI_CLI_HOME: spec.homeDir,
    LANG: 'C.UTF-8',
    // The CLI otherwise re-spawns itself with a bigger heap: one process is easier to supervise.
    GEMINI_CLI_NO_RELAUNCH: 'true',
    // Headless, the CLI refuses an untrusted folder. What trust would load from the repository
    // (.gemini/settings.json: hooks, MCP servers) is hidden by the sandbox instead
    // (GEMINI_HIDDEN_WORKSPACE_PATHS) unless the profile trusts repository settings.
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    ...spec.env,
  };
  if (spec.apiKey) env['GEMINI_API_KEY'] = spec.apiKey;
  if (spec.baseUrl) env['GOOGLE_GEMINI_BASE_URL'] = spec.baseUrl;

  // Node runs the bundled CLI: the one running Hangar, which the CLI's engines (>= 20) accept.
  const invocation: AgentInvocation = {
    command: process.execPath,
    args,
    env,
    files: [
      {
        path: geminiSettingsPath(spec.homeDir),
        content: `${JSON.stringify(geminiSettings(spec), null, 2)}\n`,
      },
    ],
  };
  if (promptViaStdin) invocation.stdin = prompt;
  return invocation;
}
