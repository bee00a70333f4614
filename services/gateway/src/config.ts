import { z } from 'zod';
import { API_TOKEN_PATTERN, EmailSchema, PasswordSchema } from '@hangar/contracts';
import { absolutePathList, baseServiceEnv, optionalUrl, port, secret } from '@hangar/config';

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
    .describe('failed sign-ins one email may have from one IP in 15 minutes before 429'),
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
  .refine(
    (config) => (config.HANGAR_ADMIN_EMAIL === undefined) === (config.HANGAR_ADMIN_PASSWORD === undefined),
    {
      message: 'HANGAR_ADMIN_EMAIL and HANGAR_ADMIN_PASSWORD go together: set both or neither',
      path: ['HANGAR_ADMIN_PASSWORD'],
    },
  );
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
