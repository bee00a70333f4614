import { Module, type DynamicModule } from '@nestjs/common';
import { DatabaseHealth, DatabaseModule } from '@hangar/db';
import { createMetricsRegistry, HealthModule } from '@hangar/observability';
import { checkRedis, RedisModule } from '@hangar/redis';
import { StatusEvents } from './status-events';
import { TaskActivity } from './task-activity';

export interface PlatformSettings {
  DATABASE_URL: string;
  REDIS_URL: string;
  HANGAR_REDIS_PREFIX: string;
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
      providers: [TaskActivity, StatusEvents],
      exports: [TaskActivity, StatusEvents],
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
