import { z } from 'zod';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

// Parses the environment once; each problem is one line naming the variable, what it is
// for (from `.describe()`), and what was wrong. Secrets (marked with `secret()`) are never echoed.
export function parseConfig<T extends z.ZodObject>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(env)');
    const field = schema.shape[name] as z.ZodType | undefined;
    const description = field?.description ? ` (${field.description})` : '';
    const raw = env[name];
    const shown = raw === undefined || isSecret(field) ? '' : ` — got "${raw}"`;
    const message = raw === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message;
    return `${name}${description}: ${message}${shown}`;
  });
  throw new ConfigError(problems);
}

// For service entry points: on a bad environment, print one line per variable and exit 1.
export function loadConfig<T extends z.ZodObject>(
  service: string,
  schema: T,
  env: Env = process.env,
): z.infer<T> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${service}: config: ${problem}\n`);
    process.exit(1);
  }
}

const SECRET = Symbol.for('hangar.secret');

export function secret<T extends z.ZodType>(schema: T): T {
  (schema as unknown as Record<symbol, boolean>)[SECRET] = true;
  return schema;
}

function isSecret(field: z.ZodType | undefined): boolean {
  if (!field) return false;
  let current: unknown = field;
  // Optional/default wrappers keep the flag on their inner type.
  for (let depth = 0; depth < 4 && current; depth++) {
    if ((current as Record<symbol, boolean>)[SECRET]) return true;
    current = (current as { def?: { innerType?: unknown } }).def?.innerType;
  }
  return false;
}
