import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_POOL,
  gitAllowedHostsSetting,
  InstallationGitCredentialsSchema,
  PoolNameSchema,
  PROVIDERS,
  ProviderSchema,
  RunnerLabelSchema,
  type Provider,
} from '@hangar/contracts';
import {
  absolutePathList,
  baseServiceEnv,
  booleanFlag,
  jsonSetting,
  nonNegativeInt,
  optionalUrl,
  port,
  positiveInt,
  secret,
  streamRetentionSeconds,
  taskMaxAttempts,
} from '@hangar/config';

// GIT_CREDENTIALS: one problem line, naming the entry and field (the value is a secret).
const gitCredentials = () =>
  secret(
    z
      .string()
      .default('[]')
      .transform((value, context) => {
        let json: unknown;
        try {
          json = JSON.parse(value);
        } catch {
          context.addIssue({ code: 'custom', message: 'must be JSON' });
          return z.NEVER;
        }
        const parsed = InstallationGitCredentialsSchema.safeParse(json);
        if (parsed.success) return parsed.data;
        const problems = parsed.error.issues.map((issue) => {
          const [index, ...field] = issue.path;
          const where =
            typeof index === 'number'
              ? `entry ${index + 1}${field.length ? ` ${field.join('.')}` : ''}: `
              : '';
          return `${where}${issue.message}`;
        });
        context.addIssue({ code: 'custom', message: problems.join('; ') });
        return z.NEVER;
      })
      .describe(
        'HTTPS credentials of projects without git hosts of their own, as JSON: [{"host":"github.com","username":"x-access-token","token":"…"}]',
      ),
  );

const quantity = z.union([z.string().regex(/^[0-9.]+[A-Za-z]*$/), z.number()]);
const resourceList = z.record(z.string(), quantity.transform(String));

// Settings of running one attempt, read by the runner and by run-task.js in a task pod alike.
export const attemptRunEnv = {
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
  RUNNER_MAX_OUTPUT_BYTES: positiveInt(
    10 * 1024 * 1024,
    'bytes an agent may print before it is stopped (a profile may set its own)',
  ),
  RUNNER_MAX_EVENT_BYTES: positiveInt(
    1024 * 1024,
    'bytes of one output line kept as an event; a longer one is stored truncated, with its size',
  ),
  // Agents are batch work: on a busy host the platform's own services (the orchestrator deciding
  // the next step, the gateway answering) keep their CPU. docs/benchmarks.md measures why.
  RUNNER_AGENT_NICE: z.coerce
    .number()
    .int()
    .min(0)
    .max(19)
    .default(10)
    .describe('the scheduling niceness of agent CLIs, 0 (as the runner) to 19 (only idle CPU)'),
  // Where the kernel shares the CPU between sessions first (Linux autogroups), an agent's niceness
  // orders it only against its own processes: this nices its sessions too (libs/agents
  // autogroup.ts). Off by default: a niced session yields to every busy session of the host, not
  // only to the platform's (docs/benchmarks.md measured agents starving beside CPU-bound jobs).
  RUNNER_AGENT_NICE_SESSIONS: booleanFlag(
    false,
    "also nice the agents' sessions (Linux autogroups) as RUNNER_AGENT_NICE: the platform's services keep their CPU beside busy agents, and the agents yield to every other busy session of the host",
  ),
  CLAUDE_BIN: z
    .string()
    .optional()
    .describe('path of the claude binary (default: the bundled @anthropic-ai/claude-code)'),
};
export type RunSettings = z.infer<z.ZodObject<typeof attemptRunEnv>>;
export const RUN_SETTINGS = Symbol('RUN_SETTINGS');

// An http(s) URL: where run-task.js finds the runner.
export const httpUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const removedJobSecret = () =>
  z
    .string()
    .max(0, {
      error:
        "is no longer read: task pods hold no database, Redis or model credential, only their attempt's token for the runner's task API (docs/kubernetes.md); remove it",
    })
    .optional()
    .describe("removed: task pods get only their attempt's token");

// What the kubernetes executor needs (docs/kubernetes.md); read only when RUNNER_EXECUTOR=kubernetes.
const kubernetesEnv = {
  RUNNER_KUBECONFIG: z
    .string()
    .optional()
    .describe('kubeconfig file of the cluster; unset: the in-cluster service account, then ~/.kube/config'),
  RUNNER_JOB_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
    .default('default')
    .describe('namespace task Jobs run in'),
  RUNNER_JOB_IMAGE: z.string().min(1).optional().describe('image of task Jobs (the agent-runner image)'),
  RUNNER_JOB_COMMAND: z
    .string()
    .default('node services/agent-runner/dist/run-task.js')
    .transform((value) => value.split(' ').filter(Boolean))
    .describe("the image's single-task entrypoint; the task id is appended"),
  RUNNER_MAX_JOBS: positiveInt(20, 'task Jobs running at once in the cluster; the rest wait in the queue'),
  RUNNER_JOB_RESOURCES: jsonSetting(
    z.object({ requests: resourceList.optional(), limits: resourceList.optional() }).strict(),
    '{"requests":{"cpu":"500m","memory":"1Gi"},"limits":{"memory":"2Gi"}}',
    'requests and limits of a task pod, as JSON (a profile may set its own)',
  ),
  RUNNER_JOB_RUNTIME_CLASS: z
    .string()
    .optional()
    .or(z.literal('').transform(() => undefined))
    .describe('runtimeClassName of task pods, e.g. gvisor or kata'),
  RUNNER_JOB_NODE_SELECTOR: jsonSetting(
    z.record(z.string(), z.string()),
    '{}',
    'nodeSelector of task pods, as a JSON object',
  ),
  RUNNER_JOB_TOLERATIONS: jsonSetting(
    z.array(
      z
        .object({
          key: z.string().optional(),
          operator: z.enum(['Exists', 'Equal']).optional(),
          value: z.string().optional(),
          effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
          tolerationSeconds: z.number().int().optional(),
        })
        .strict(),
    ),
    '[]',
    'tolerations of task pods, as a JSON array',
  ),
  RUNNER_JOB_TTL_SECONDS: nonNegativeInt(
    3600,
    'how long a finished task Job is kept (ttlSecondsAfterFinished)',
  ),
  RUNNER_TASK_API_URL: httpUrl()
    .optional()
    .describe(
      "how task pods reach this runner's endpoints (task API, model gateway, egress proxy), e.g. http://hangar-agent-runner.hangar.svc:4011",
    ),
  RUNNER_JOB_CONVERSATION_CLAIMS: booleanFlag(
    false,
    "keep each conversation's workspace on its own PersistentVolumeClaim across turns",
  ),
  RUNNER_JOB_CONVERSATION_STORAGE_CLASS: z
    .string()
    .optional()
    .or(z.literal('').transform(() => undefined))
    .describe("storage class of conversations' claims (unset: the cluster's default)"),
  RUNNER_JOB_CONVERSATION_STORAGE_SIZE: z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a storage quantity such as 5Gi')
    .default('5Gi')
    .describe("size of a conversation's claim"),
  RUNNER_JOB_PENDING_TIMEOUT_SECONDS: nonNegativeInt(
    300,
    'a task pod that cannot be scheduled for this long fails its task',
  ),
  RUNNER_JOB_REQUEUE_DELAY_MS: positiveInt(
    2000,
    'how long a task of a project at its Job cap waits before a retry',
  ),
  RUNNER_JOB_RESYNC_MS: positiveInt(10_000, 'how often every task Job is checked against its task'),
  RUNNER_JOB_WARM_POLL_MS: positiveInt(
    1000,
    "how often a warm pod's wait for an attempt looks in the database besides being woken when one is given (a wake-up lost with Redis delays it at most this long)",
  ),
  RUNNER_JOB_WARM_MAX: z.coerce
    .number()
    .int()
    .min(0)
    .max(100)
    .default(0)
    .describe(
      "warm task pods the controller keeps at most, over every Claude Code profile that asks for them (profile's warm, or RUNNER_WARM_DEFAULT); 0: none",
    ),
  // Refused rather than ignored: task pods no longer get the database, Redis or model keys at
  // all, and an operator who still sets these believes they do.
  RUNNER_JOB_DATABASE_URL_SECRET: removedJobSecret(),
  RUNNER_JOB_REDIS_URL_SECRET: removedJobSecret(),
  RUNNER_JOB_API_KEY_SECRET: removedJobSecret(),
  RUNNER_LEASE_NAME: z
    .string()
    .default('hangar-agent-runner')
    .describe('Lease the controller replicas elect a leader with'),
  RUNNER_LEASE_DURATION_SECONDS: positiveInt(15, "how long a leader's Lease holds without renewal"),
  RUNNER_LEASE_RETRY_MS: positiveInt(2000, 'how often the Lease is renewed, or tried by a follower'),
  TASK_MAX_ATTEMPTS: taskMaxAttempts(),
};

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
    RUNNER_POOL: PoolNameSchema.default(DEFAULT_POOL).describe(
      'the runner pool this runner takes tasks for (docs/routing.md); runners of one pool should offer the same',
    ),
    RUNNER_LABELS: z
      .string()
      .default('')
      .transform((value, context) => {
        const labels = value
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean);
        for (const label of labels) {
          const parsed = RunnerLabelSchema.safeParse(label);
          if (!parsed.success)
            context.addIssue({ code: 'custom', message: `"${label}" ${parsed.error.issues[0]?.message}` });
          else if (/^(pool|executor)=/.test(label))
            context.addIssue({
              code: 'custom',
              message: `"${label}": pool= and executor= are set by the runner itself (RUNNER_POOL, RUNNER_EXECUTOR)`,
            });
        }
        return [...new Set(labels)].sort();
      })
      .describe('labels this runner offers, separated by commas, e.g. gpu,region=eu,large (docs/routing.md)'),
    RUNNER_SANDBOX: z
      .enum(['bwrap', 'off'])
      .default('bwrap')
      .describe(
        'bwrap: every agent CLI runs in a bubblewrap sandbox (docs/security.md); off: unsandboxed, with a warning on every task',
      ),
    RUNNER_TASK_API_PORT: port(
      4011,
      "the runner's endpoints for agents: model gateway, egress proxy, task API (0: any free port)",
    ),
    RUNNER_TASK_API_HOST: z
      .string()
      .default('127.0.0.1')
      .describe("address the agents' endpoints listen on (task pods need one they can reach)"),
    RUNNER_ATTEMPT_TOKEN_GRACE_SECONDS: positiveInt(
      600,
      "how long an attempt's credential outlives the task's timeout at most (it is revoked when the attempt ends)",
    ),
    RUNNER_EXECUTOR: z
      .enum(['process', 'kubernetes'])
      .default('process')
      .describe('process: agent CLIs run as child processes of this runner; kubernetes: one Job per task'),
    ...kubernetesEnv,
    ...attemptRunEnv,
    // The warm pool (docs/performance.md): CLIs started ahead of their tasks, in their sandboxes.
    RUNNER_WARM_DEFAULT: nonNegativeInt(
      0,
      "warm agent CLIs this runner keeps for each Claude Code profile that does not set its own (profile's warm)",
    ),
    RUNNER_WARM_MAX: nonNegativeInt(
      4,
      'warm agent CLIs this runner keeps at most, over every profile (0: none)',
    ),
    RUNNER_SPARE_SANDBOXES: nonNegativeInt(
      2,
      'sandboxes this runner starts ahead of its tasks, for a cold agent CLI to start in without waiting for one (0: none)',
    ),
    RUNNER_WARM_IDLE_SECONDS: positiveInt(
      600,
      'how long a warm agent CLI waits for a task before it is replaced by a fresh one',
    ),
    RUNNER_WARM_REFRESH_MS: positiveInt(
      5000,
      "how often the warm pool reads the profiles' warm settings and replaces what changed",
    ),
    RUNNER_SHUTDOWN_GRACE_MS: positiveInt(
      10_000,
      'on SIGTERM, how long running tasks may finish before they are requeued',
    ),
    STREAM_RETENTION_SECONDS: streamRetentionSeconds(),
    WORKSPACE_ALLOWED_LOCAL_ROOTS: absolutePathList(
      'folders whose git repositories tasks may name by local path',
    ),
    WORKSPACE_RETENTION_HOURS: positiveInt(
      24,
      'how long a finished task keeps its workspace (conversations keep theirs)',
    ),
    GIT_ALLOWED_HOSTS: gitAllowedHostsSetting(),
    GIT_CREDENTIALS: gitCredentials(),
    // Refused rather than ignored: it was offered to any host, and an operator who still sets it
    // expects pushes to work.
    GIT_PUSH_TOKEN: secret(
      z
        .string()
        .max(0, {
          error:
            "is no longer read: remove it and put the token in GIT_CREDENTIALS, bound to its host (or in the project's git hosts)",
        })
        .optional()
        .describe('replaced by GIT_CREDENTIALS'),
    ),
    GIT_SSH_KEY_PATH: z
      .string()
      .optional()
      .describe('private key for cloning and pushing over SSH, to allowed hosts already in known_hosts'),
    SCRIPTED_MODEL_URL: optionalUrl('run agents against the scripted model at this URL'),
    RUNNER_METRICS_URL: optionalUrl(
      "the metrics service, where the agents' own OpenTelemetry is relayed (docs/observability.md#the-agents-telemetry); unset: the agents' telemetry is off",
    ),
    MODEL_PRICES: jsonSetting(
      z.record(
        z.string().min(1),
        z.strictObject({
          input: z.number().nonnegative(),
          output: z.number().nonnegative(),
          cacheRead: z.number().nonnegative(),
          cacheWrite: z.number().nonnegative(),
        }),
      ),
      '{}',
      'prices of models (dollars per million tokens: {"model": {"input", "output", "cacheRead", "cacheWrite"}}) added to or replacing the built-in price table (docs/governance.md)',
    ),
    MODEL_CREDENTIALS: secret(
      jsonSetting(
        z.partialRecord(
          ProviderSchema,
          z
            .array(
              z.strictObject({
                name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes'),
                key: z.string().min(1),
                baseUrl: httpUrl().optional(),
                maxConcurrent: z.number().int().positive().optional(),
                tokensPerMinute: z.number().int().positive().optional(),
              }),
            )
            .min(1)
            .refine((pool) => new Set(pool.map((member) => member.name)).size === pool.length, {
              message: 'credential names are unique within a provider',
            }),
        ),
        '{}',
        'credential pools per provider ({"claude": [{"name", "key", "baseUrl"?, "maxConcurrent"?, "tokensPerMinute"?}, …]}): calls go out with the least busy credential that is not rested; replaces ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY for that provider (docs/governance.md)',
      ),
    ),
    NOTIFY_WEBHOOK_URL: optionalUrl(
      "the installation's notification hook: budget warnings are POSTed there as JSON (docs/governance.md)",
    ),
    NOTIFY_WEBHOOK_SECRET: secret(
      z
        .string()
        .min(16)
        .optional()
        .describe(
          'signs what NOTIFY_WEBHOOK_URL receives: x-hangar-signature-256: sha256=<HMAC of the body>',
        ),
    ),
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
  })
  .superRefine((config, context) => {
    const strays = config.GIT_CREDENTIALS.map(({ host }) => host).filter(
      (host) => !config.GIT_ALLOWED_HOSTS.includes(host),
    );
    if (strays.length > 0) {
      context.addIssue({
        code: 'custom',
        path: ['GIT_CREDENTIALS'],
        message: `${strays.join(', ')} not in GIT_ALLOWED_HOSTS: credentials are offered to allowed hosts only`,
      });
    }
    if (config.RUNNER_EXECUTOR === 'kubernetes' && !config.RUNNER_JOB_IMAGE) {
      context.addIssue({
        code: 'custom',
        path: ['RUNNER_JOB_IMAGE'],
        message: 'the kubernetes executor needs the image of task Jobs (the agent-runner image)',
      });
    }
    if (config.RUNNER_EXECUTOR === 'kubernetes' && !config.RUNNER_TASK_API_URL) {
      context.addIssue({
        code: 'custom',
        path: ['RUNNER_TASK_API_URL'],
        message: "the kubernetes executor needs the URL task pods reach this runner's task API at",
      });
    }
    if (config.RUNNER_EXECUTOR !== 'kubernetes' && config.RUNNER_JOB_WARM_MAX > 0) {
      context.addIssue({
        code: 'custom',
        path: ['RUNNER_JOB_WARM_MAX'],
        message:
          "warm task pods are the kubernetes executor's: the process executor keeps warm CLIs (RUNNER_WARM_MAX)",
      });
    }
    if (!PROVIDERS.some((provider) => hasModel(config, provider))) {
      context.addIssue({
        code: 'custom',
        path: ['ANTHROPIC_API_KEY'],
        message:
          'set a model key (ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY) or credential pools (MODEL_CREDENTIALS), or SCRIPTED_MODEL_URL for the scripted model',
      });
    }
  });
export type AgentRunnerConfig = z.infer<typeof AgentRunnerConfigSchema>;
export const AGENT_RUNNER_CONFIG = Symbol('AGENT_RUNNER_CONFIG');

// A provider's one key and endpoint (ANTHROPIC_*, OPENAI_*, GEMINI_*), when it has no pool.
export function providerKey(
  config: Pick<
    AgentRunnerConfig,
    | 'ANTHROPIC_API_KEY'
    | 'ANTHROPIC_BASE_URL'
    | 'OPENAI_API_KEY'
    | 'OPENAI_BASE_URL'
    | 'GEMINI_API_KEY'
    | 'GEMINI_BASE_URL'
  >,
  provider: Provider,
): { key: string | undefined; baseUrl: string | undefined } {
  return {
    claude: { key: config.ANTHROPIC_API_KEY, baseUrl: config.ANTHROPIC_BASE_URL },
    codex: { key: config.OPENAI_API_KEY, baseUrl: config.OPENAI_BASE_URL },
    gemini: { key: config.GEMINI_API_KEY, baseUrl: config.GEMINI_BASE_URL },
  }[provider];
}

// Whether the runner has a model for `provider`: the scripted model, a credential pool
// (MODEL_CREDENTIALS), or the provider's one key. What it offers, and whether it may start.
export function hasModel(
  config: Parameters<typeof providerKey>[0] &
    Pick<AgentRunnerConfig, 'SCRIPTED_MODEL_URL' | 'MODEL_CREDENTIALS'>,
  provider: Provider,
): boolean {
  return Boolean(
    config.SCRIPTED_MODEL_URL || config.MODEL_CREDENTIALS[provider] || providerKey(config, provider).key,
  );
}
