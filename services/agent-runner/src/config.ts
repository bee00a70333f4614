import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { absolutePathList, baseServiceEnv, optionalUrl, port, positiveInt, secret } from '@hangar/config';

export const AgentRunnerConfigSchema = z
  .object({
    ...baseServiceEnv,
    AGENT_RUNNER_PORT: port(4008, 'the agent-runner (health and metrics)'),
    RUNNER_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .default(`${hostname()}-${process.pid}`)
      .describe('name of this runner in task records'),
    RUNNER_SLOTS: positiveInt(2, 'agent CLIs this runner runs at once'),
    RUNNER_EXECUTOR: z
      .enum(['process', 'kubernetes'])
      .default('process')
      .describe('process: agent CLIs run as child processes of this runner; kubernetes: one Job per task'),
    WORKSPACE_ROOT: z
      .string()
      .default('.hangar/workspaces')
      .transform((value) => path.resolve(value))
      .describe('folder holding one workspace folder per task'),
    RUNNER_HOME_ROOT: z
      .string()
      .default('.hangar/agent-homes')
      .transform((value) => path.resolve(value))
      .describe('folder holding one HOME/config folder per agent run'),
    HEARTBEAT_INTERVAL_MS: positiveInt(5000, 'how often the runner reports its running tasks'),
    RUNNER_SHUTDOWN_GRACE_MS: positiveInt(
      10_000,
      'on SIGTERM, how long running tasks may finish before they are requeued',
    ),
    STREAM_RETENTION_SECONDS: positiveInt(
      3600,
      'how long a finished task keeps its Redis stream for late subscribers',
    ),
    RUNNER_MAX_OUTPUT_BYTES: positiveInt(
      10 * 1024 * 1024,
      'bytes an agent may print before it is stopped (a profile may set its own)',
    ),
    WORKSPACE_ALLOWED_LOCAL_ROOTS: absolutePathList(
      'folders whose git repositories tasks may name by local path',
    ),
    WORKSPACE_RETENTION_HOURS: positiveInt(
      24,
      'how long a finished task keeps its workspace (conversations keep theirs)',
    ),
    GIT_PUSH_TOKEN: secret(
      z.string().min(1).optional().describe('token for pushing task branches over HTTPS'),
    ),
    GIT_SSH_KEY_PATH: z.string().optional().describe('private key for pushing task branches over SSH'),
    SCRIPTED_MODEL_URL: optionalUrl('run agents against the scripted model at this URL'),
    ANTHROPIC_API_KEY: secret(z.string().min(1).optional().describe('Anthropic API key for real runs')),
    ANTHROPIC_BASE_URL: optionalUrl('Anthropic-compatible API endpoint for real runs'),
    OPENAI_API_KEY: secret(
      z.string().min(1).optional().describe('OpenAI API key, for profiles with provider codex'),
    ),
    OPENAI_BASE_URL: optionalUrl('OpenAI-compatible API endpoint (with /v1) for codex profiles'),
    GEMINI_API_KEY: secret(
      z.string().min(1).optional().describe('Gemini API key, for profiles with provider gemini'),
    ),
    GEMINI_BASE_URL: optionalUrl('Gemini API endpoint for gemini profiles'),
    CLAUDE_BIN: z
      .string()
      .optional()
      .describe('path of the claude binary (default: the bundled @anthropic-ai/claude-code)'),
  })
  .superRefine((config, context) => {
    // The Helm chart can already ask for it; refusing beats silently running processes instead.
    if (config.RUNNER_EXECUTOR === 'kubernetes') {
      context.addIssue({
        code: 'custom',
        path: ['RUNNER_EXECUTOR'],
        message:
          'the kubernetes executor is not in this version of the agent-runner yet; set RUNNER_EXECUTOR=process (the default)',
      });
    }
    if (
      !config.SCRIPTED_MODEL_URL &&
      !config.ANTHROPIC_API_KEY &&
      !config.OPENAI_API_KEY &&
      !config.GEMINI_API_KEY
    ) {
      context.addIssue({
        code: 'custom',
        path: ['ANTHROPIC_API_KEY'],
        message:
          'set a model key (ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY), or SCRIPTED_MODEL_URL for the scripted model',
      });
    }
  });
export type AgentRunnerConfig = z.infer<typeof AgentRunnerConfigSchema>;
export const AGENT_RUNNER_CONFIG = Symbol('AGENT_RUNNER_CONFIG');
