import { z } from 'zod';
import { BUILTIN_SCENARIOS_DIR } from './scenario.loader';
import { startScriptedModel } from './scripted-model.server';

const EnvSchema = z.object({
  SCRIPTED_MODEL_PORT: z.coerce.number().int().min(0).max(65_535).default(4010),
  SCRIPTED_MODEL_HOST: z.string().min(1).default('127.0.0.1'),
  SCRIPTED_MODEL_SCENARIOS_DIR: z.string().min(1).optional(),
  // debug also logs every successful request (scenario, run key, step, attempt).
  SCRIPTED_MODEL_LOG_LEVEL: z.enum(['info', 'debug']).default('info'),
});

function log(fields: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), service: 'scripted-model', ...fields })}\n`,
  );
}

async function main(): Promise<void> {
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      process.stderr.write(`${issue.path.join('.')}: ${issue.message}\n`);
    process.exit(1);
  }
  const env = parsed.data;
  const model = await startScriptedModel({
    port: env.SCRIPTED_MODEL_PORT,
    host: env.SCRIPTED_MODEL_HOST,
    scenariosDir: env.SCRIPTED_MODEL_SCENARIOS_DIR,
    onRequest: (record) => {
      if (record.status >= 400)
        log({ level: record.status >= 500 ? 'error' : 'warn', msg: 'request', ...record });
      else if (env.SCRIPTED_MODEL_LOG_LEVEL === 'debug') log({ level: 'debug', msg: 'request', ...record });
    },
  });
  log({
    level: 'info',
    msg: 'scripted model listening',
    url: model.url,
    scenariosDir: env.SCRIPTED_MODEL_SCENARIOS_DIR ?? null,
    builtinScenariosDir: BUILTIN_SCENARIOS_DIR,
  });
  const shutdown = (signal: NodeJS.Signals): void => {
    model.close().then(
      () => {
        log({ level: 'info', msg: 'scripted model stopped', signal });
        process.exit(0);
      },
      (error: unknown) => {
        log({ level: 'error', msg: 'scripted model failed to stop', signal, error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  log({
    level: 'error',
    msg: 'scripted model failed to start',
    error: error instanceof Error ? error.message : String(error),
  });
  process.exit(1);
});
