import { z } from 'zod';

function urlWithProtocols(protocols: string[], what: string) {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a ${what} URL (${protocols.map((p) => p + '//').join(' or ')}…)` },
  );
}

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/hangar';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export const databaseUrl = () =>
  urlWithProtocols(['postgresql:', 'postgres:'], 'PostgreSQL')
    .default(DEFAULT_DATABASE_URL)
    .describe('PostgreSQL connection URL');

export const redisUrl = () =>
  urlWithProtocols(['redis:', 'rediss:'], 'Redis')
    .default(DEFAULT_REDIS_URL)
    .describe('Redis connection URL');

export const port = (fallback: number, what: string) =>
  z.coerce.number().int().min(0).max(65535).default(fallback).describe(`TCP port ${what} listens on`);

export const positiveInt = (fallback: number, what: string) =>
  z.coerce.number().int().positive().default(fallback).describe(what);

export const nonNegativeInt = (fallback: number, what: string) =>
  z.coerce.number().int().min(0).default(fallback).describe(what);

// `true` or `false` (nothing else: a typo is refused, not read as false).
export const booleanFlag = (fallback: boolean, what: string) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true')
    .describe(what);

export const optionalUrl = (what: string) =>
  z
    .string()
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined))
    .describe(what);

export const redisPrefix = () =>
  z
    .string()
    .regex(/^[A-Za-z0-9_:-]+$/, 'must be letters, digits, -, _ or :')
    .default('hangar')
    .describe('prefix of every Redis key Hangar writes');

// How many runs a task gets when a run is lost to the infrastructure (a runner that went silent,
// an evicted pod): the orchestrator and the kubernetes executor both apply it.
export const TASK_MAX_ATTEMPTS_DEFAULT = 2;
export const taskMaxAttempts = () =>
  positiveInt(
    TASK_MAX_ATTEMPTS_DEFAULT,
    'runs a task gets when its runner or pod is lost (1 = never retried)',
  );

// How long a finished task's Redis stream stays for late subscribers; whichever service ends
// the task (a runner, the orchestrator's reconciler, the kubernetes executor) applies it.
export const STREAM_RETENTION_SECONDS_DEFAULT = 3600;
export const streamRetentionSeconds = () =>
  positiveInt(
    STREAM_RETENTION_SECONDS_DEFAULT,
    'how long a finished task keeps its Redis stream for late subscribers',
  );

// A JSON value in one setting (node selectors, tolerations, resources), checked by `schema`.
export const jsonSetting = <T extends z.ZodType>(schema: T, fallback: string, what: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, context) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema)
    .describe(what);

// Settings every service shares.
export const baseServiceEnv = {
  DATABASE_URL: databaseUrl(),
  REDIS_URL: redisUrl(),
  HOST: z.string().min(1).default('127.0.0.1').describe('interface to listen on'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl('OTLP/HTTP endpoint for traces; tracing is off when unset'),
  HANGAR_REDIS_PREFIX: redisPrefix(),
};

// A comma-separated list of absolute paths, e.g. folders local repositories may come from.
export const absolutePathList = (what: string) =>
  z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((paths) => paths.every((entry) => entry.startsWith('/')), {
      message: 'must be absolute paths, separated by commas',
    })
    .describe(what);

// A comma- or space-separated list, each entry checked; the message names the bad one.
export const listOf = <T>(parse: (entry: string) => T, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, context) => {
      const parsed: T[] = [];
      for (const entry of value.split(/[\s,]+/).filter(Boolean)) {
        try {
          parsed.push(parse(entry));
        } catch (error) {
          context.addIssue({
            code: 'custom',
            message: error instanceof Error ? error.message : String(error),
          });
          return z.NEVER;
        }
      }
      return parsed;
    });
