import { Module, type DynamicModule } from '@nestjs/common';
import { DatabaseHealth, DatabaseModule } from '@hangar/db';
import { createMetricsRegistry, HealthModule } from '@hangar/observability';
import { checkRedis, RedisModule } from '@hangar/redis';
import { WEBSOCKET_POOL_CONFIG, type WebsocketPoolConfig } from './config';
import { StreamingModule } from './modules/streaming/streaming.module';

@Module({})
export class AppModule {
  static forRoot(config: WebsocketPoolConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        DatabaseModule.forRoot({ databaseUrl: config.DATABASE_URL }),
        RedisModule.forRoot({ url: config.REDIS_URL, prefix: config.HANGAR_REDIS_PREFIX }),
        HealthModule.forRootAsync({
          registry: createMetricsRegistry('websocket-pool'),
          inject: [DatabaseHealth],
          readiness: (db: DatabaseHealth) => async () => {
            await db.check();
            await checkRedis(config.REDIS_URL);
          },
        }),
        StreamingModule,
      ],
      providers: [{ provide: WEBSOCKET_POOL_CONFIG, useValue: config }],
      exports: [WEBSOCKET_POOL_CONFIG],
    };
  }
}
