import { Module, type DynamicModule } from '@nestjs/common';
import { DatabaseHealth, DatabaseModule } from '@hangar/db';
import { createMetricsRegistry, HealthModule } from '@hangar/observability';
import { checkRedis, RedisModule } from '@hangar/redis';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from './config';
import { runnerClientModule } from './modules/scheduling/runner-client';
import { SchedulingModule } from './modules/scheduling/scheduling.module';

@Module({})
export class AppModule {
  static forRoot(config: OrchestratorConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        DatabaseModule.forRoot({ databaseUrl: config.DATABASE_URL }),
        RedisModule.forRoot({ url: config.REDIS_URL, prefix: config.HANGAR_REDIS_PREFIX }),
        { ...runnerClientModule(config.REDIS_URL, config.HANGAR_REDIS_PREFIX), global: true },
        HealthModule.forRootAsync({
          registry: createMetricsRegistry('orchestrator'),
          inject: [DatabaseHealth],
          readiness: (db: DatabaseHealth) => async () => {
            await db.check();
            await checkRedis(config.REDIS_URL);
          },
        }),
        SchedulingModule,
      ],
      providers: [{ provide: ORCHESTRATOR_CONFIG, useValue: config }],
      exports: [ORCHESTRATOR_CONFIG],
    };
  }
}
