import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { preflight, type PreflightCheck } from '@hangar/config';
import { checkDatabase } from '@hangar/db';
import { createLogger, initTracing, PinoNestLogger, type Logger } from '@hangar/observability';
import { checkRedis } from '@hangar/redis';

export interface StartServiceOptions {
  name: string;
  config: {
    LOG_LEVEL: string;
    OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
    HOST: string;
    DATABASE_URL: string;
    REDIS_URL: string;
  };
  port: number;
  // Each must answer before anything listens; otherwise the process exits 1 with one line each.
  // Default: PostgreSQL and Redis.
  dependencies?: PreflightCheck[];
  module: DynamicModule;
  // Message patterns this service handles (e.g. the Redis transport), besides HTTP.
  microservice?: MicroserviceOptions;
  configure?: (app: INestApplication) => void;
  bodyParser?: boolean;
  // The HTTP server to use (default: a new Express app), for settings its router takes only
  // when it is made, such as Express' case sensitive routing. Made after tracing has started:
  // express (and the http module it loads) must be loaded after the instrumentation, or no
  // request gets a span and no log line its trace id.
  httpAdapter?: () => Promise<AbstractHttpAdapter>;
}

// What every Hangar process does first (a service, or one task's run-task.js): tracing, JSON
// logs, and the dependency preflight (the process exits 1 with one line per missing one).
export async function bootProcess(
  options: Pick<StartServiceOptions, 'name' | 'config' | 'dependencies'>,
): Promise<{
  tracing: { shutdown(): Promise<void> };
  log: Logger;
}> {
  const tracing = initTracing(options.name, options.config.OTEL_EXPORTER_OTLP_ENDPOINT);
  const log = createLogger(options.name, options.config.LOG_LEVEL);
  const { DATABASE_URL, REDIS_URL } = options.config;
  await preflight(
    options.name,
    options.dependencies ?? [() => checkDatabase(DATABASE_URL), () => checkRedis(REDIS_URL)],
  );
  return { tracing, log };
}

// The common start of every Hangar service: tracing, JSON logs, dependency preflight, the
// Nest app (HTTP for the API, health and metrics, plus a transport when asked), signals.
export async function startService(options: StartServiceOptions): Promise<INestApplication> {
  const { tracing, log } = await bootProcess(options);
  const nestOptions = { logger: new PinoNestLogger(log), bodyParser: options.bodyParser ?? true };
  const app = options.httpAdapter
    ? await NestFactory.create(options.module, await options.httpAdapter(), nestOptions)
    : await NestFactory.create(options.module, nestOptions);
  options.configure?.(app);
  if (options.microservice) app.connectMicroservice(options.microservice, { inheritAppConfig: true });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.startAllMicroservices();
  await app.listen(options.port, options.config.HOST);
  log.info(
    { port: options.port, host: options.config.HOST },
    `${options.name} listening on http://${options.config.HOST}:${options.port}`,
  );
  process.once('beforeExit', () => void tracing.shutdown());
  return app;
}
