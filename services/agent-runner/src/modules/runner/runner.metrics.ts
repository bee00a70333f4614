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
  readonly phases: Histogram<'phase' | 'start'>;
  readonly warmAgents: Gauge;
  readonly warmStarts: Counter;
  readonly warmTakes: Counter<'outcome' | 'reason'>;
  readonly warmRetired: Counter<'reason'>;
  readonly spareSandboxes: Gauge;
  readonly spareTakes: Counter<'outcome'>;

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
    this.phases = new Histogram({
      name: 'hangar_task_phase_seconds',
      help: 'Time of each phase of a task attempt on this runner: queue (created → claimed, first attempts), prepare (claimed → CLI started or given its prompt), start (→ its first event), run (→ its result), finish (→ the task reported finished), first_event (created → first event); start: warm or cold',
      labelNames: ['phase', 'start'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers: [registry],
    });
    this.warmAgents = new Gauge({
      name: 'hangar_runner_warm_agents',
      help: 'Agent CLIs started ahead of time, waiting for a task (the warm pool)',
      registers: [registry],
    });
    this.warmStarts = new Counter({
      name: 'hangar_runner_warm_starts_total',
      help: 'Agent CLIs the warm pool started',
      registers: [registry],
    });
    this.warmTakes = new Counter({
      name: 'hangar_runner_warm_takes_total',
      help: 'Tasks of a profile kept warm: hit (took a warm CLI) or miss (started cold), with the reason of a miss',
      labelNames: ['outcome', 'reason'],
      registers: [registry],
    });
    this.warmRetired = new Counter({
      name: 'hangar_runner_warm_retired_total',
      help: 'Warm CLIs stopped unused, by reason (idle, profile-changed, not-wanted, exited, shutdown)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.spareSandboxes = new Gauge({
      name: 'hangar_runner_spare_sandboxes',
      help: 'Sandboxes started ahead of their tasks, waiting for a cold agent CLI (RUNNER_SPARE_SANDBOXES)',
      registers: [registry],
    });
    this.spareTakes = new Counter({
      name: 'hangar_runner_spare_sandbox_takes_total',
      help: 'Cold starts that could use a spare sandbox: hit (started in one) or miss (none was ready: the sandbox started with the CLI)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}
