import { Module } from '@nestjs/common';
import { OtlpController } from './otlp.controller';
import { TelemetryMetrics } from './telemetry.metrics';

// The agents' own OpenTelemetry, received over OTLP (docs/observability.md#the-agents-telemetry).
@Module({ controllers: [OtlpController], providers: [TelemetryMetrics] })
export class TelemetryModule {}
