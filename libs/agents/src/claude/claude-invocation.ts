import { Buffer } from 'node:buffer';
import path from 'node:path';
import { type AgentInvocation, DEFAULT_AGENT_PATH, MAX_PROMPT_ARG_BYTES } from '../agent-invocation';
import type { OutputSchema } from '../output-schema';
import { PERMISSION_MODES } from '@hangar/contracts';
import { claudeAskRules } from './approval-rules';
import { resolveClaudeBinary } from './claude-binary';

// The profile schema validates these; one list for both.
export const CLAUDE_PERMISSION_MODES = PERMISSION_MODES;
export type ClaudePermissionMode = (typeof CLAUDE_PERMISSION_MODES)[number];

// acceptEdits lets the Write/Edit tools and simple in-workspace shell commands run headless;
// anything else needs allowedTools (or bypassPermissions, which root may only use in a sandbox).
export const DEFAULT_PERMISSION_MODE: ClaudePermissionMode = 'acceptEdits';

export interface ClaudeRunSpec {
  prompt: string;
  // A directory of this run only: HOME, with the CLI's config in <homeDir>/.claude. Concurrent
  // CLIs sharing one config directory contend for its lock files.
  homeDir: string;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  permissionMode?: ClaudePermissionMode;
  maxTurns?: number;
  appendSystemPrompt?: string;
  allowedTools?: readonly string[];
  disallowedTools?: readonly string[];
  mcpConfig?: string;
  // The patterns become `permissions.ask` rules (--settings): such a call is asked of the
  // permission prompt tool whatever the mode and allow rules say.
  approvals?: { patterns: readonly string[]; promptTool: string };
  resumeSessionId?: string;
  // The CLI offers the model a StructuredOutput tool with this schema and ends the run when it is
  // called: the result's text is the object, serialized.
  outputSchema?: OutputSchema;
  binaryPath?: string;
  // PATH for the agent and the commands it runs.
  path?: string;
  // Extra variables (trace context, proxies); everything else from the parent is withheld.
  env?: Readonly<Record<string, string>>;
  trustRepositorySettings?: boolean;
  // Started before its task (the runner's warm pool): the prompt is not in the invocation; the CLI
  // reads it from stdin as a stream-json user message (claudePromptInput), once it is known.
  waitForPrompt?: boolean;
}

export function buildClaudeInvocation(spec: ClaudeRunSpec): AgentInvocation {
  const permissionMode = spec.permissionMode ?? DEFAULT_PERMISSION_MODE;
  const args = ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', permissionMode];
  if (spec.model) args.push('--model', spec.model);
  if (spec.maxTurns !== undefined) args.push('--max-turns', String(spec.maxTurns));
  if (spec.appendSystemPrompt) args.push('--append-system-prompt', spec.appendSystemPrompt);
  if (spec.allowedTools?.length) args.push('--allowedTools', ...spec.allowedTools);
  if (spec.disallowedTools?.length) args.push('--disallowedTools', ...spec.disallowedTools);
  if (spec.mcpConfig) args.push('--mcp-config', spec.mcpConfig);
  if (spec.approvals?.patterns.length) {
    const settings = { permissions: { ask: claudeAskRules(spec.approvals.patterns) } };
    args.push('--settings', JSON.stringify(settings), '--permission-prompt-tool', spec.approvals.promptTool);
  }
  if (spec.resumeSessionId) args.push('--resume', spec.resumeSessionId);
  if (spec.outputSchema) args.push('--json-schema', JSON.stringify(spec.outputSchema));
  // The repository's .claude/settings*.json (hooks, permission rules, env, helper commands) and
  // .mcp.json stay unread: settings come from the run's home, MCP servers from --mcp-config. Its
  // CLAUDE.md, skills and agents reach the CLI through the home (prepareClaudeHome).
  if (!spec.trustRepositorySettings) args.push('--setting-sources', 'user', '--strict-mcp-config');

  if (spec.waitForPrompt) args.push('--input-format', 'stream-json');
  const promptViaStdin = !spec.waitForPrompt && Buffer.byteLength(spec.prompt) > MAX_PROMPT_ARG_BYTES;
  // `--` ends the variadic tool lists and keeps a prompt starting with "-" from reading as a flag.
  if (!promptViaStdin && !spec.waitForPrompt) args.push('--', spec.prompt);

  const env: Record<string, string> = {
    PATH: spec.path ?? DEFAULT_AGENT_PATH,
    HOME: spec.homeDir,
    CLAUDE_CONFIG_DIR: path.join(spec.homeDir, '.claude'),
    LANG: 'C.UTF-8',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    ...spec.env,
  };
  if (spec.baseUrl) env['ANTHROPIC_BASE_URL'] = spec.baseUrl;
  if (spec.apiKey) env['ANTHROPIC_API_KEY'] = spec.apiKey;
  // The CLI refuses bypassPermissions as root unless told it runs in a sandbox; asking for the
  // mode is that statement (task pods run as root in their own container).
  if (permissionMode === 'bypassPermissions') env['IS_SANDBOX'] = '1';

  const invocation: AgentInvocation = { command: resolveClaudeBinary(spec.binaryPath), args, env };
  if (promptViaStdin) invocation.stdin = spec.prompt;
  return invocation;
}

// What a CLI started with `waitForPrompt` reads as its one prompt: a stream-json user message. Its
// stdin is closed after it, so the CLI ends once it has answered, as with a prompt argument.
export function claudePromptInput(prompt: string): string {
  return `${JSON.stringify({ type: 'user', message: { role: 'user', content: prompt } })}\n`;
}
