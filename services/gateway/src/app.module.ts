import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ZodValidationPipe } from 'nestjs-zod';
import { DatabaseHealth, DatabaseModule } from '@hangar/db';
import { createMetricsRegistry, HealthModule } from '@hangar/observability';
import { checkRedis } from '@hangar/redis';
import { ProblemFilter } from './common/problem.filter';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { orchestratorClientModule } from './modules/tasks/orchestrator-client';
import { TasksModule } from './modules/tasks/tasks.module';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const database = DatabaseModule.forRoot({ databaseUrl: config.DATABASE_URL, defaultTimeoutSeconds: config.DEFAULT_TASK_TIMEOUT_SECONDS });
    const clients = { ...orchestratorClientModule(config.REDIS_URL, config.HANGAR_REDIS_PREFIX), global: true };
    return {
      module: AppModule,
      imports: [
        database,
        clients,
        HealthModule.forRootAsync({
          registry: createMetricsRegistry('gateway'),
          inject: [DatabaseHealth],
          readiness: (db: DatabaseHealth) => async () => {
            await db.check();
            await checkRedis(config.REDIS_URL);
          },
        }),
        TasksModule,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
      exports: [GATEWAY_CONFIG],
      global: true,
    };
  }
}
