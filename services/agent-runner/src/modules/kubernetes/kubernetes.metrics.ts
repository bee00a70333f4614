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
  readonly warmTakes: Counter<'outcome' | 'reason'>;
  readonly warmRetired: Counter<'reason'>;
  readonly warmCreated: Counter;

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
    this.warmCreated = new Counter({
      name: 'hangar_runner_warm_jobs_created_total',
      help: 'Warm task Jobs created',
      registers: [registry],
    });
    this.warmTakes = new Counter({
      name: 'hangar_runner_warm_job_takes_total',
      help: 'Attempts of profiles kept warm: given to a warm pod (hit) or to a Job of their own (miss, by reason)',
      labelNames: ['outcome', 'reason'],
      registers: [registry],
    });
    this.warmRetired = new Counter({
      name: 'hangar_runner_warm_jobs_retired_total',
      help: 'Warm task Jobs deleted unused, by reason (idle, profile-changed, not-wanted, failed)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  // Running Jobs and warm pods, read when Prometheus scrapes.
  observe(executor: { activeJobs(): unknown[]; warmJobs(): { ready: number; starting: number } }) {
    new Gauge({
      name: 'hangar_runner_warm_jobs',
      help: 'Warm task Jobs waiting for an attempt, by state (starting: their pod has not reported its CLI ready)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const { ready, starting } = executor.warmJobs();
        this.set({ state: 'ready' }, ready);
        this.set({ state: 'starting' }, starting);
      },
    });
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
