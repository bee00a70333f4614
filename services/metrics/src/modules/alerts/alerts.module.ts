import { Module } from '@nestjs/common';
import { AlertEvaluator } from './alert-evaluator.service';
import { AlertNotifier } from './alert-notifier.service';
import { AlertsMetrics } from './alerts.metrics';
import { AnomalyDetector } from './anomaly-detector.service';
import { HourAnomalies } from './hour-anomalies.service';

// Alert rules evaluated, their notifications delivered, anomalies found (docs/alerts.md).
@Module({
  providers: [AlertEvaluator, AlertNotifier, AlertsMetrics, AnomalyDetector, HourAnomalies],
  exports: [AnomalyDetector],
})
export class AlertsModule {}
