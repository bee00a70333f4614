import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import { METRICS_CONFIG, type MetricsConfig } from './config';
import { AlertsModule } from './modules/alerts/alerts.module';
import { SamplesModule } from './modules/samples/samples.module';
import { TelemetryModule } from './modules/telemetry/telemetry.module';

// The metrics service: the time series of ended tasks (docs/observability.md), its health and
// its own /metrics.
@Module({})
export class AppModule {
  static forRoot(config: MetricsConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [PlatformModule.forRoot('metrics', config), SamplesModule, TelemetryModule, AlertsModule],
      providers: [{ provide: METRICS_CONFIG, useValue: config }],
      exports: [METRICS_CONFIG],
    };
  }
}
