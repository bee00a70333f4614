// First, before anything else loads: V8's settings (libs/platform/src/runtime-flags.ts).
import '@hangar/platform/runtime-lean';
import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { startService } from '@hangar/platform';
import { redisTransportServer } from '@hangar/redis';
import { AppModule } from './app.module';
import { OrchestratorConfigSchema } from './config';

const config = loadConfig('orchestrator', OrchestratorConfigSchema);
void startService({
  name: 'orchestrator',
  config,
  port: config.ORCHESTRATOR_PORT,
  module: AppModule.forRoot(config),
  microservice: redisTransportServer(config.REDIS_URL, config.HANGAR_REDIS_PREFIX),
});
