import { Module, type DynamicModule } from '@nestjs/common';
import { createMetricsRegistry, HealthModule } from '@hangar/observability';
import { checkRedis } from '@hangar/redis';
import type { MetricsConfig } from './config';

// A shell for now: health and its own /metrics. Ingest, rollups and analytics come with
// the analytics work (see docs/architecture.md).
@Module({})
export class AppModule {
  static forRoot(config: MetricsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule.forRoot({
          registry: createMetricsRegistry('metrics'),
          readiness: () => checkRedis(config.REDIS_URL),
        }),
      ],
    };
  }
}
