import { Module, type DynamicModule } from '@nestjs/common';
import { DatabaseHealth, DatabaseModule } from '@hangar/db';
import { createMetricsRegistry, HealthModule } from '@hangar/observability';
import { checkRedis, RedisModule } from '@hangar/redis';
import { DEFAULT_LIFECYCLE_SETTINGS, LIFECYCLE_SETTINGS, TaskLifecycle } from './task-lifecycle';
import { ApprovalDesk } from './approval-desk';
import { BudgetSpend } from './budget-spend';
import { TaskActivity } from './task-activity';
import { WorkflowRunActivity } from './workflow-run-activity';

export interface PlatformSettings {
  DATABASE_URL: string;
  REDIS_URL: string;
  HANGAR_REDIS_PREFIX: string;
  // The task lifecycle's retry policy and the stream retention of finished tasks and workflow
  // runs (services that change them).
  TASK_MAX_ATTEMPTS?: number;
  STREAM_RETENTION_SECONDS?: number;
}

// What every service stands on: repositories, the Redis client and task streams, and
// /health + /metrics whose readiness means "PostgreSQL and Redis answer".
@Module({})
export class PlatformModule {
  static forRoot(
    service: string,
    settings: PlatformSettings,
    options: { defaultTimeoutSeconds?: number } = {},
  ): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      providers: [
        ApprovalDesk,
        BudgetSpend,
        TaskActivity,
        TaskLifecycle,
        WorkflowRunActivity,
        {
          provide: LIFECYCLE_SETTINGS,
          useValue: {
            TASK_MAX_ATTEMPTS: settings.TASK_MAX_ATTEMPTS ?? DEFAULT_LIFECYCLE_SETTINGS.TASK_MAX_ATTEMPTS,
            STREAM_RETENTION_SECONDS:
              settings.STREAM_RETENTION_SECONDS ?? DEFAULT_LIFECYCLE_SETTINGS.STREAM_RETENTION_SECONDS,
          },
        },
      ],
      exports: [ApprovalDesk, BudgetSpend, TaskActivity, TaskLifecycle, WorkflowRunActivity],
      imports: [
        DatabaseModule.forRoot({ databaseUrl: settings.DATABASE_URL, ...options }),
        RedisModule.forRoot({ url: settings.REDIS_URL, prefix: settings.HANGAR_REDIS_PREFIX }),
        HealthModule.forRootAsync({
          registry: createMetricsRegistry(service),
          inject: [DatabaseHealth],
          readiness: (db: DatabaseHealth) => async () => {
            await db.check();
            await checkRedis(settings.REDIS_URL);
          },
        }),
      ],
    };
  }
}
