import { Inject, Injectable } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';
import { TaskRouter } from './task-router';

// Queue depth by pool, read when Prometheus scrapes: what an autoscaler of a pool's runners watches.
@Injectable()
export class QueueMetrics {
  constructor(@Inject(METRICS_REGISTRY) registry: Registry, router: TaskRouter) {
    new Gauge({
      name: 'hangar_queue_depth',
      help: 'Task jobs waiting for a runner slot, by runner pool',
      labelNames: ['pool'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [pool, depth] of await router.depths()) this.set({ pool }, depth);
      },
    });
  }
}
