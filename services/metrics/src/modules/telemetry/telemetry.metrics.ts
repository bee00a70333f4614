import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';

@Injectable()
export class TelemetryMetrics {
  readonly received: Counter<'signal' | 'encoding' | 'outcome'>;
  readonly forwarded: Counter<'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.received = new Counter({
      name: 'hangar_metrics_otlp_requests_total',
      help: 'OTLP requests received, by signal (traces, logs, metrics), encoding and outcome (stored, refused)',
      labelNames: ['signal', 'encoding', 'outcome'],
      registers: [registry],
    });
    this.forwarded = new Counter({
      name: 'hangar_metrics_otlp_forwarded_total',
      help: 'Trace requests forwarded to METRICS_OTLP_FORWARD_URL: sent, refused (not 2xx), failed',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}
