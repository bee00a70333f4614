import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';
import { MetricRecordStream } from '@hangar/redis';

@Injectable()
export class SamplesMetrics {
  readonly records: Counter<'outcome'>;
  readonly reconciled: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, stream: MetricRecordStream) {
    this.records = new Counter({
      name: 'hangar_metrics_records_total',
      help: 'Records handled: stored, duplicate (stored before: read again after a restart), parked (not a record)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.reconciled = new Counter({
      name: 'hangar_metrics_samples_reconciled_total',
      help: 'Ended tasks sampled from PostgreSQL because their record never arrived',
      registers: [registry],
    });
    new Gauge({
      name: 'hangar_metrics_records_backlog',
      help: 'Records waiting for the metrics service: not yet read (lag) and read but not stored (pending)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const { lag, pending } = await stream.backlog();
        this.set({ state: 'lag' }, lag);
        this.set({ state: 'pending' }, pending);
      },
    });
  }
}
