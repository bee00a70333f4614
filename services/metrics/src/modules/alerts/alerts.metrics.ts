import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';

// The alerts' own series in the metrics service's /metrics (docs/alerts.md).
@Injectable()
export class AlertsMetrics {
  private readonly firingRules: Gauge;
  private readonly changes: Counter<'event'>;
  private readonly evaluation: Histogram;
  private readonly sent: Counter<'kind' | 'outcome'>;
  private readonly anomalies: Counter<'metric'>;
  private readonly hourChecks: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.firingRules = new Gauge({
      name: 'hangar_alert_rules_firing',
      help: 'Alert rules firing at the last evaluation',
      registers: [registry],
    });
    this.changes = new Counter({
      name: 'hangar_alert_firings_total',
      help: 'Alert rules that fired or resolved, by event',
      labelNames: ['event'],
      registers: [registry],
    });
    this.evaluation = new Histogram({
      name: 'hangar_alert_evaluation_seconds',
      help: 'Time of one evaluation of every alert rule',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.sent = new Counter({
      name: 'hangar_alert_notifications_total',
      help: 'Tries to deliver alert notifications, by target kind and outcome (sent, retry, failed)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    });
    this.anomalies = new Counter({
      name: 'hangar_anomalies_total',
      help: "Tasks (hour_*: hours) found far outside their profile's baseline, by metric",
      labelNames: ['metric'],
      registers: [registry],
    });
    this.hourChecks = new Counter({
      name: 'hangar_anomaly_hour_checks_total',
      help: 'Looks at the last whole hours of every profile for anomalies',
      registers: [registry],
    });
  }

  evaluated(ms: number): void {
    this.evaluation.observe(ms / 1000);
  }

  firing(rules: number): void {
    this.firingRules.set(rules);
  }

  transitions(fired: number, resolved: number): void {
    if (fired > 0) this.changes.inc({ event: 'fired' }, fired);
    if (resolved > 0) this.changes.inc({ event: 'resolved' }, resolved);
  }

  delivery(kind: string, outcome: 'sent' | 'retry' | 'failed'): void {
    this.sent.inc({ kind, outcome });
  }

  anomaly(metric: string): void {
    this.anomalies.inc({ metric });
  }

  hourChecked(): void {
    this.hourChecks.inc();
  }
}
