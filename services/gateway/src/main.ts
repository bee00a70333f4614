// First, before anything else loads: V8's settings (libs/platform/src/runtime-flags.ts).
import '@hangar/platform/runtime-throughput';
import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { loadConfig } from '@hangar/config';
import { startService } from '@hangar/platform';
import { redisTransportServer } from '@hangar/redis';
import { AppModule } from './app.module';
import { GatewayConfigSchema } from './config';
import { setupOpenApi } from './openapi';

const config = loadConfig('gateway', GatewayConfigSchema);
// One spelling per route: /API/v1/tasks is a 404, not a second door whose prefix checks (auth,
// rate limits, raw webhook bodies) see another path than the router matched. Express reads the
// setting only when its router is made, i.e. before Nest's adapter first uses the app. Loaded
// here, after tracing started (see StartServiceOptions.httpAdapter).
let raw: typeof import('express').raw;
async function httpAdapter() {
  const { default: express } = await import('express');
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  raw = express.raw;
  const server = express();
  server.set('case sensitive routing', true);
  return new ExpressAdapter(server);
}

void startService({
  name: 'gateway',
  config,
  port: config.GATEWAY_PORT,
  module: AppModule.forRoot(config),
  bodyParser: false,
  httpAdapter,
  configure: (nest) => {
    const app = nest as NestExpressApplication;
    // Webhook receivers verify signatures on the exact bytes sent, whatever their type (JSON,
    // Slack's forms): they get the body raw, before the JSON parser could touch it.
    app.use('/webhooks', raw({ type: () => true, limit: config.GATEWAY_BODY_LIMIT }));
    app.useBodyParser('json', { limit: config.GATEWAY_BODY_LIMIT });
    app.disable('x-powered-by');
    // request.secure (the session cookie's Secure flag) believes X-Forwarded-Proto from as many
    // proxies as the client IP does.
    app.set('trust proxy', config.TRUST_PROXY);
    app.use(helmet());
    if (config.GATEWAY_CORS_ORIGINS.length > 0) {
      app.enableCors({
        origin: config.GATEWAY_CORS_ORIGINS.includes('*') ? true : config.GATEWAY_CORS_ORIGINS,
        credentials: true,
        exposedHeaders: [
          'RateLimit-Limit',
          'RateLimit-Remaining',
          'RateLimit-Reset',
          'Retry-After',
          'Idempotent-Replayed',
          'Idempotent-Withheld',
        ],
      });
    }
    // Slow or stalled clients get 408 instead of holding a connection open.
    const server = app.getHttpServer();
    server.requestTimeout = config.GATEWAY_REQUEST_TIMEOUT_MS;
    server.headersTimeout = Math.min(config.GATEWAY_REQUEST_TIMEOUT_MS, 60_000);
    setupOpenApi(app);
    // Requests of the runners (delegating agents' children: docs/delegation.md). Connected here
    // rather than through startService's `microservice`: the REST API's guard, interceptors and
    // problem filter are HTTP's, and must not be inherited by message handlers.
    app.connectMicroservice(redisTransportServer(config.REDIS_URL, config.HANGAR_REDIS_PREFIX), {
      inheritAppConfig: false,
    });
  },
});
