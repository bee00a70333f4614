import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { preflight, type PreflightCheck } from '@hangar/config';
import { createLogger, PinoNestLogger } from './logger';
import { initTracing } from './tracing';

export interface StartServiceOptions {
  name: string;
  config: { LOG_LEVEL: string; OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined; HOST: string };
  port: number;
  // Each must answer before anything listens; otherwise the process exits 1 with one line each.
  dependencies: PreflightCheck[];
  module: DynamicModule;
  // Message patterns this service handles (e.g. the Redis transport), besides HTTP.
  microservice?: MicroserviceOptions;
  configure?: (app: INestApplication) => void;
  bodyParser?: boolean;
}

// The common start of every Hangar service: tracing, JSON logs, dependency preflight, the
// Nest app (HTTP for the API, health and metrics, plus a transport when asked), signals.
export async function startService(options: StartServiceOptions): Promise<INestApplication> {
  const tracing = initTracing(options.name, options.config.OTEL_EXPORTER_OTLP_ENDPOINT);
  const log = createLogger(options.name, options.config.LOG_LEVEL);
  await preflight(options.name, options.dependencies);
  const app = await NestFactory.create(options.module, {
    logger: new PinoNestLogger(log),
    bodyParser: options.bodyParser ?? true,
  });
  options.configure?.(app);
  if (options.microservice) app.connectMicroservice(options.microservice, { inheritAppConfig: true });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.startAllMicroservices();
  await app.listen(options.port, options.config.HOST);
  log.info({ port: options.port, host: options.config.HOST }, `${options.name} listening on http://${options.config.HOST}:${options.port}`);
  process.once('beforeExit', () => void tracing.shutdown());
  return app;
}
