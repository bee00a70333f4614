import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@hangar/config';
import { checkDatabase } from '@hangar/db';
import { startService } from '@hangar/observability';
import { checkRedis } from '@hangar/redis';
import { AppModule } from './app.module';
import { GatewayConfigSchema } from './config';

const config = loadConfig('gateway', GatewayConfigSchema);
void startService({
  name: 'gateway',
  config,
  port: config.GATEWAY_PORT,
  dependencies: [() => checkDatabase(config.DATABASE_URL), () => checkRedis(config.REDIS_URL)],
  module: AppModule.forRoot(config),
  bodyParser: false,
  configure: (nest) => {
    const app = nest as NestExpressApplication;
    app.useBodyParser('json', { limit: config.GATEWAY_BODY_LIMIT });
    app.disable('x-powered-by');
  },
});
