import { z } from 'zod';
import {
  API_TOKEN_PATTERN,
  DEFAULT_AUTHOR_ASSOCIATIONS,
  EmailSchema,
  GITHUB_AUTHOR_ASSOCIATIONS,
  gitAllowedHostsSetting,
  GithubAuthorAssociationSchema,
  PasswordSchema,
} from '@hangar/contracts';
import { absolutePathList, baseServiceEnv, listOf, optionalUrl, port, secret } from '@hangar/config';
import { parseAllowedHost, type AllowedHost } from '@hangar/egress';

const optional = <T extends z.ZodType>(schema: T) =>
  schema.optional().or(z.literal('').transform(() => undefined));

export const GatewayAuthConfigSchema = z.object({
  HANGAR_ADMIN_EMAIL: optional(EmailSchema).describe(
    'email of the first administrator, created on the first start (with HANGAR_ADMIN_PASSWORD)',
  ),
  HANGAR_ADMIN_PASSWORD: secret(
    optional(PasswordSchema).describe('password of the first administrator (at least 12 characters)'),
  ),
  HANGAR_ADMIN_TOKEN: secret(
    optional(
      z.string().regex(API_TOKEN_PATTERN, 'must look like hgr_ followed by 40 letters and digits'),
    ).describe('an admin API token of the default project, registered on start (for scripts and hangar up)'),
  ),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(12)
    .describe('how long a dashboard sign-in lasts'),
  SESSION_COOKIE_SECURE: z
    .enum(['auto', 'true', 'false'])
    .default('auto')
    .describe('mark the session cookie Secure (auto: when the request came over HTTPS)'),
  LOGIN_ATTEMPTS_PER_15_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(10)
    .describe('failed sign-ins one account (email) may have in 15 minutes, from any address, before 429'),
  LOGIN_ATTEMPTS_PER_IP_PER_15_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(50)
    .describe('failed sign-ins one client IP may make in 15 minutes, for any accounts, before 429'),
});

const optionalSecret = (what: string) => secret(optional(z.string().min(1)).describe(what));

const AUTHOR_ASSOCIATIONS = GITHUB_AUTHOR_ASSOCIATIONS.join(', ');

// The static receivers (/webhooks/<provider>): on when their secret is set.
export const GatewayWebhookConfigSchema = z.object({
  GITHUB_WEBHOOK_SECRET: optionalSecret('GitHub webhook secret: turns on /webhooks/github'),
  GITHUB_TOKEN: optionalSecret('GitHub token the static receiver answers with (comments, reactions, labels)'),
  GITHUB_API_URL: optionalUrl('GitHub API base URL (GitHub Enterprise: https://<host>/api/v3)'),
  GITHUB_WEBHOOK_AUTHOR_ASSOCIATIONS: listOf(
    (entry) => GithubAuthorAssociationSchema.parse(entry.toUpperCase()),
    DEFAULT_AUTHOR_ASSOCIATIONS.join(','),
  )
    .refine((list) => list.length > 0, { message: `name at least one of ${AUTHOR_ASSOCIATIONS}` })
    .describe(
      `whose comments, issues and pull requests the static GitHub receiver acts on, by author_association (${AUTHOR_ASSOCIATIONS})`,
    ),
  SLACK_SIGNING_SECRET: optionalSecret('Slack signing secret: turns on /webhooks/slack'),
  SLACK_BOT_TOKEN: optionalSecret('Slack bot token (xoxb-…) the static receiver answers with'),
  SLACK_API_URL: optionalUrl('Slack Web API base URL'),
  JIRA_WEBHOOK_SECRET: optionalSecret('Jira webhook secret: turns on /webhooks/jira'),
  JIRA_BASE_URL: optionalUrl('the Jira site the static receiver answers on (https://<you>.atlassian.net)'),
  JIRA_EMAIL: optional(z.string().min(1)).describe('Jira account email for answering'),
  JIRA_API_TOKEN: optionalSecret('Jira API token for answering'),
  SENTRY_CLIENT_SECRET: optionalSecret('Sentry integration client secret: turns on /webhooks/sentry'),
  WEBHOOK_PROJECT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a project slug')
    .default('default')
    .describe('project the static receivers start tasks in'),
  WEBHOOK_PREFIX: z.string().min(1).max(50).default('@hangar').describe('what addresses Hangar in a comment'),
  WEBHOOK_PROFILE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a profile name')
    .default('default')
    .describe('agent profile of tasks the static receivers start'),
  WEBHOOK_REPOSITORY: optional(z.string().min(1)).describe(
    'repository of tasks from Slack, Jira and Sentry, whose events name none',
  ),
  HANGAR_PUBLIC_URL: optionalUrl('where people reach the dashboard: replies link to the task there'),
  WEBHOOK_WORKER_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe('deliveries one gateway processes at once'),
  WEBHOOK_REPLY_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(1000)
    .describe('how often finished webhook tasks are looked for, to answer them'),
  WEBHOOK_API_ALLOWED_HOSTS: listOf<AllowedHost>(parseAllowedHost, '').describe(
    'hosts (host or host:port) a webhook apiUrl may name although they resolve to a private, loopback or other internal address: your GitHub Enterprise or Jira',
  ),
  WEBHOOK_REPLAY_WINDOW_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 366)
    .default(24)
    .describe(
      'how long a signed body seen once is taken for a replay when it comes again, whatever its delivery id',
    ),
  WEBHOOK_FOLLOWUP_WAIT_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(60)
    .describe("how long a follow-up waits for the thread's previous turn to end"),
});

export const GatewayConfigSchema = z
  .object({
    ...baseServiceEnv,
    GATEWAY_PORT: port(4005, 'the gateway (REST API)'),
    GATEWAY_BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'must be a size like 256kb or 1mb')
      .default('1mb')
      .describe('largest accepted request body'),
    GATEWAY_RPC_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(5000)
      .describe('how long to wait for the orchestrator'),
    DEFAULT_TASK_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(600)
      .describe('timeout of a task that names none'),
    SCRIPTED_MODEL_URL: optionalUrl('scripted model in use: tasks may then pick a scenario'),
    SCRIPTED_MODEL_SCENARIOS_DIR: z
      .string()
      .optional()
      .describe('extra scenario folder of the scripted model'),
    GATEWAY_CORS_ORIGINS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .refine((origins) => origins.every((origin) => origin === '*' || /^https?:\/\/[^/\s]+$/.test(origin)), {
        message: 'must be origins like https://hangar.example.com, separated by commas (or *)',
      })
      .describe('browser origins allowed to call the API from another site (none: same origin only)'),
    GATEWAY_REQUEST_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(1000)
      .default(30_000)
      .describe('longest time a client may take to send a request'),
    WORKSPACE_ALLOWED_LOCAL_ROOTS: absolutePathList(
      'folders whose git repositories tasks may name by local path',
    ),
    GIT_ALLOWED_HOSTS: gitAllowedHostsSetting(),
    RATE_LIMIT_IP_PER_MINUTE: z.coerce
      .number()
      .int()
      .min(0)
      .default(300)
      .describe('requests per minute one client IP may make under /api/ and /webhooks/ (0 = no limit)'),
    RATE_LIMIT_TOKEN_PER_MINUTE: z.coerce
      .number()
      .int()
      .min(0)
      .default(600)
      .describe('requests per minute one API (bearer) token may make (0 = no limit)'),
    TRUST_PROXY: z
      .union(
        [
          z.enum(['true', 'false']).transform((value) => (value === 'true' ? 1 : 0)),
          z.coerce.number().int().min(0).max(10),
        ],
        { error: 'must be true, false or a number of proxies from 0 to 10' },
      )
      .default(0)
      .describe(
        'proxies in front of the gateway whose X-Forwarded-For is believed (true = 1; 0 = use the socket address)',
      ),
  })
  .extend(GatewayAuthConfigSchema.shape)
  .extend(GatewayWebhookConfigSchema.shape)
  .refine(
    (config) => (config.HANGAR_ADMIN_EMAIL === undefined) === (config.HANGAR_ADMIN_PASSWORD === undefined),
    {
      message: 'HANGAR_ADMIN_EMAIL and HANGAR_ADMIN_PASSWORD go together: set both or neither',
      path: ['HANGAR_ADMIN_PASSWORD'],
    },
  );
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
