import { Module, type DynamicModule } from '@nestjs/common';
import { DatabaseHealth, DatabaseModule } from '@hangar/db';
import { createMetricsRegistry, HealthModule } from '@hangar/observability';
import { checkRedis, RedisModule } from '@hangar/redis';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from './config';
import { RunnerModule } from './modules/runner/runner.module';

@Module({})
export class AppModule {
  static forRoot(config: AgentRunnerConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        DatabaseModule.forRoot({ databaseUrl: config.DATABASE_URL }),
        RedisModule.forRoot({ url: config.REDIS_URL, prefix: config.HANGAR_REDIS_PREFIX }),
        HealthModule.forRootAsync({
          registry: createMetricsRegistry('agent-runner'),
          inject: [DatabaseHealth],
          readiness: (db: DatabaseHealth) => async () => {
            await db.check();
            await checkRedis(config.REDIS_URL);
          },
        }),
        RunnerModule,
      ],
      providers: [{ provide: AGENT_RUNNER_CONFIG, useValue: config }],
      exports: [AGENT_RUNNER_CONFIG],
    };
  }
}
