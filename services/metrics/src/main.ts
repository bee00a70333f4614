import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { checkDatabase } from '@hangar/db';
import { startService } from '@hangar/observability';
import { checkRedis } from '@hangar/redis';
import { AppModule } from './app.module';
import { MetricsConfigSchema } from './config';

const config = loadConfig('metrics', MetricsConfigSchema);
void startService({
  name: 'metrics',
  config,
  port: config.METRICS_PORT,
  dependencies: [() => checkDatabase(config.DATABASE_URL), () => checkRedis(config.REDIS_URL)],
  module: AppModule.forRoot(config),
});
