import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';
import type { WorkflowRunStatus } from '@hangar/contracts';

// What the engine adds to a run: the time from a message about a run to a ready step's task
// being queued, how runs end, and how steps' ends reached it (heard from PostgreSQL, or by
// their jobs; whether this orchestrator is the one listening).
@Injectable()
export class WorkflowMetrics {
  private readonly stepStart: Histogram;
  private readonly runs: Counter<'status'>;
  private readonly stepEnds: Counter<'heard'>;
  private readonly listener: Gauge;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.stepStart = new Histogram({
      name: 'hangar_workflow_step_start_seconds',
      help: "Time from the engine taking a run's message to a ready step's task created and queued",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    this.runs = new Counter({
      name: 'hangar_workflow_runs_finished_total',
      help: 'Workflow runs finished, by status',
      labelNames: ['status'],
      registers: [registry],
    });
    this.stepEnds = new Counter({
      name: 'hangar_workflow_step_ends_total',
      help: "Workflow steps' task ends decided here, by how they were heard: notice (from PostgreSQL, as they committed) or job (the lifecycle's, on the workflow queue)",
      labelNames: ['heard'],
      registers: [registry],
    });
    this.listener = new Gauge({
      name: 'hangar_workflow_step_listener',
      help: "1 while this orchestrator is the one hearing steps' ends from PostgreSQL",
      registers: [registry],
    });
  }

  stepEndDecided(heard: 'notice' | 'job') {
    this.stepEnds.inc({ heard });
  }

  listening(now: boolean) {
    this.listener.set(now ? 1 : 0);
  }

  stepStarted(ms: number) {
    this.stepStart.observe(ms / 1000);
  }

  runFinished(status: WorkflowRunStatus) {
    this.runs.inc({ status });
  }
}
