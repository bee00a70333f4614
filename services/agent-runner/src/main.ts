// First, before anything else loads: V8's settings (libs/platform/src/runtime-flags.ts).
import '@hangar/platform/runtime-throughput';
import 'reflect-metadata';
import { loadConfig } from '@hangar/config';
import { checkDatabase } from '@hangar/db';
import { startService } from '@hangar/platform';
import { checkRedis, redisTransportServer } from '@hangar/redis';
import { AppModule } from './app.module';
import { AgentRunnerConfigSchema } from './config';
import { AgentSandbox } from './modules/sandbox/agent-sandbox';

const config = loadConfig('agent-runner', AgentRunnerConfigSchema);
const sandbox = AgentSandbox.forRunner(config);
void startService({
  name: 'agent-runner',
  config,
  port: config.AGENT_RUNNER_PORT,
  // Only the process executor runs agents here; it makes a sandbox first, or refuses to start.
  dependencies: [
    () => checkDatabase(config.DATABASE_URL),
    () => checkRedis(config.REDIS_URL),
    ...(config.RUNNER_EXECUTOR === 'process' ? [() => sandbox.check()] : []),
  ],
  module: AppModule.forRoot(config, sandbox),
  microservice: redisTransportServer(config.REDIS_URL, config.HANGAR_REDIS_PREFIX),
});
