import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import type { MetricsConfig } from './config';

// A shell for now: health and its own /metrics. Ingest, rollups and analytics come with
// the analytics work (see docs/architecture.md).
@Module({})
export class AppModule {
  static forRoot(config: MetricsConfig): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot('metrics', config)] };
  }
}
