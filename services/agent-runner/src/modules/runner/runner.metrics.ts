import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';

@Injectable()
export class RunnerMetrics {
  readonly running: Gauge;
  readonly finished: Counter<'status'>;
  readonly duration: Histogram<'status'>;
  readonly events: Counter<'type'>;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    // None in a task pod (run-task.js), which runs one attempt and is not scraped.
    @Optional() @Inject(AGENT_RUNNER_CONFIG) config?: AgentRunnerConfig,
  ) {
    if (config)
      new Gauge({
        name: 'hangar_runner_slots',
        help: 'Agent CLIs this runner may run at once',
        registers: [registry],
      }).set(config.RUNNER_SLOTS);
    this.running = new Gauge({
      name: 'hangar_runner_tasks_running',
      help: 'Agent CLIs running now',
      registers: [registry],
    });
    this.finished = new Counter({
      name: 'hangar_runner_tasks_finished_total',
      help: 'Runs ended, by outcome',
      labelNames: ['status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'hangar_runner_task_duration_seconds',
      help: 'Wall time of a run, by outcome',
      labelNames: ['status'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    });
    this.events = new Counter({
      name: 'hangar_runner_events_total',
      help: 'Agent events recorded, by type',
      labelNames: ['type'],
      registers: [registry],
    });
  }
}
