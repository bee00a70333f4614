import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { checkDatabase } from '@hangar/db';
import { startService } from '@hangar/observability';
import { checkRedis, redisTransportServer } from '@hangar/redis';
import { AppModule } from './app.module';
import { OrchestratorConfigSchema } from './config';

const config = loadConfig('orchestrator', OrchestratorConfigSchema);
void startService({
  name: 'orchestrator',
  config,
  port: config.ORCHESTRATOR_PORT,
  dependencies: [() => checkDatabase(config.DATABASE_URL), () => checkRedis(config.REDIS_URL)],
  module: AppModule.forRoot(config),
  microservice: redisTransportServer(config.REDIS_URL, config.HANGAR_REDIS_PREFIX),
});
