import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { checkDatabase } from '@hangar/db';
import { startService } from '@hangar/observability';
import { checkRedis } from '@hangar/redis';
import { AppModule } from './app.module';
import { WebsocketPoolConfigSchema } from './config';

const config = loadConfig('websocket-pool', WebsocketPoolConfigSchema);
void startService({
  name: 'websocket-pool',
  config,
  port: config.WEBSOCKET_POOL_PORT,
  dependencies: [() => checkDatabase(config.DATABASE_URL), () => checkRedis(config.REDIS_URL)],
  module: AppModule.forRoot(config),
});
