import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';

// What an autoscaler and an operator watch of the kubernetes executor. Every replica exports
// them; only the leader's Job counts are non-zero, so sum() or max() over replicas both read
// right. Queue depth is the orchestrator's hangar_queue_depth.
@Injectable()
export class KubernetesMetrics {
  readonly leader: Gauge;
  readonly created: Counter;
  readonly failures: Counter<'reason'>;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(AGENT_RUNNER_CONFIG) config: AgentRunnerConfig,
  ) {
    this.leader = new Gauge({
      name: 'hangar_runner_leader',
      help: '1 on the controller replica holding the Lease, 0 on the others',
      registers: [registry],
    });
    new Gauge({
      name: 'hangar_runner_jobs_max',
      help: 'Task Jobs the controller runs at once (RUNNER_MAX_JOBS)',
      registers: [registry],
    }).set(config.RUNNER_MAX_JOBS);
    this.created = new Counter({
      name: 'hangar_runner_jobs_created_total',
      help: 'Task Jobs created',
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'hangar_runner_job_failures_total',
      help: 'Task attempts ended by the cluster, not by their run, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  // Running Jobs, read when Prometheus scrapes.
  observe(executor: { activeJobs(): unknown[] }) {
    new Gauge({
      name: 'hangar_runner_jobs_running',
      help: 'Task Jobs not finished yet (pending or running)',
      registers: [this.registry],
      collect() {
        this.set(executor.activeJobs().length);
      },
    });
  }
}
