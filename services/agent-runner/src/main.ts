import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { startService } from '@hangar/platform';
import { redisTransportServer } from '@hangar/redis';
import { AppModule } from './app.module';
import { AgentRunnerConfigSchema } from './config';

const config = loadConfig('agent-runner', AgentRunnerConfigSchema);
void startService({
  name: 'agent-runner',
  config,
  port: config.AGENT_RUNNER_PORT,
  module: AppModule.forRoot(config),
  microservice: redisTransportServer(config.REDIS_URL, config.HANGAR_REDIS_PREFIX),
});
