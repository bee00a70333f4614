import { Inject, Injectable } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';
import { TaskQueue } from './task-queue';

// Queue depth, read when Prometheus scrapes: what an autoscaler of runners watches.
@Injectable()
export class QueueMetrics {
  constructor(@Inject(METRICS_REGISTRY) registry: Registry, queue: TaskQueue) {
    new Gauge({
      name: 'hangar_queue_depth',
      help: 'Task jobs waiting for a runner slot',
      registers: [registry],
      async collect() {
        this.set(await queue.depth());
      },
    });
  }
}
