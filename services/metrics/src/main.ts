// First, before anything else loads: V8's settings (libs/platform/src/runtime-flags.ts).
import '@hangar/platform/runtime-throughput';
import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@hangar/config';
import { startService } from '@hangar/platform';
import { AppModule } from './app.module';
import { MetricsConfigSchema } from './config';

const config = loadConfig('metrics', MetricsConfigSchema);
// Express is loaded after tracing started (see StartServiceOptions.httpAdapter).
let raw: typeof import('express').raw;
async function httpAdapter() {
  const { default: express } = await import('express');
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  raw = express.raw;
  return new ExpressAdapter(express());
}

void startService({
  name: 'metrics',
  config,
  port: config.METRICS_PORT,
  module: AppModule.forRoot(config),
  httpAdapter,
  // OTLP arrives as protobuf or JSON: its receiver reads the bytes itself.
  bodyParser: false,
  configure: (nest) => {
    const app = nest as NestExpressApplication;
    app.use('/v1', raw({ type: () => true, limit: config.METRICS_OTLP_BODY_LIMIT }));
    app.disable('x-powered-by');
  },
});
