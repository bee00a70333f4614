import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import type { AgentProvider } from '@hangar/agents';
import { Patterns, type RunnerRegisteredMessage, type TaskJob } from '@hangar/contracts';
import { OnDemand, TaskLifecycle } from '@hangar/platform';
import {
  CredentialPools,
  delayedJob,
  type Job,
  Queues,
  type QueueWorker,
  RunnerRegistry,
  taskQueueSpec,
} from '@hangar/redis';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { offeredLabels, offeredProviders } from './runner-offer';
import type { TaskExecutor } from './task-executor';

export const ORCHESTRATOR_CLIENT = Symbol('ORCHESTRATOR_CLIENT');

// Feeds an executor from the runner's queues (docs/routing.md): its pool's, and its own (tasks
// working in a workspace this runner holds), and keeps the runner's record in the registry at
// every heartbeat interval, so the orchestrator routes to it while it takes work. Both queues
// share the executor's concurrency: a job waits here for a free slot rather than run beyond it.
@Injectable()
export class TaskIntake implements OnApplicationShutdown {
  private readonly logger = new Logger(TaskIntake.name);
  private readonly workers: QueueWorker<TaskJob, string>[] = [];
  private executor: TaskExecutor | undefined;
  private timer: NodeJS.Timeout | undefined;
  private taking = 0;
  private readonly waiting: (() => void)[] = [];
  // Every registration (at each interval, and at once when what the runner offers changed): one
  // at a time, so that an older one can never land after a newer one.
  private readonly registration = new OnDemand('registering the runner', () => this.register());
  // What this runner offers does not change while it runs: found once (finding the CLIs reads
  // the disk), not at every registration.
  private readonly labels: string[];
  private readonly providers: AgentProvider[];

  constructor(
    private readonly queues: Queues,
    private readonly registry: RunnerRegistry,
    private readonly pools: CredentialPools,
    private readonly lifecycle: TaskLifecycle,
    @Inject(ORCHESTRATOR_CLIENT) private readonly orchestrator: ClientProxy,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {
    this.labels = offeredLabels(config);
    this.providers = offeredProviders(config);
  }

  // Starts taking jobs for the executor; registers the runner and tells the orchestrator.
  async open(executor: TaskExecutor): Promise<void> {
    if (this.executor) return;
    this.executor = executor;
    await this.register();
    const message: RunnerRegisteredMessage = { runnerId: this.config.RUNNER_ID };
    lastValueFrom(this.orchestrator.emit(Patterns.runnerRegistered, message).pipe(timeout(5000))).catch(
      (error: unknown) =>
        this.logger.warn(
          `runner.registered not sent (${String(error)}); the reconciler routes to this runner`,
        ),
    );
    const queues = [taskQueueSpec({ pool: this.config.RUNNER_POOL })];
    // Shared workspaces are a process executor's (a task pod's workspace is its own).
    if (executor.kind === 'process') queues.push(taskQueueSpec({ runner: this.config.RUNNER_ID }));
    for (const spec of queues) {
      const worker = this.queues.consumer(spec, (_data, job, token) => this.take(job, token), {
        concurrency: executor.concurrency,
        // A lost attempt is the orchestrator's to detect (heartbeats) and retry; a stalled job
        // must not also be re-run by BullMQ.
        maxStalledCount: 0,
      });
      worker.on('failed', (job, error) => this.logger.error({ err: error, jobId: job?.id }, 'job failed'));
      worker.on('error', (error) => this.logger.error({ err: error }, 'queue error'));
      this.workers.push(worker);
    }
    this.timer = setInterval(() => this.registration.run(), this.config.HEARTBEAT_INTERVAL_MS);
    this.logger.log(
      `taking tasks of pool ${this.config.RUNNER_POOL} (${this.labels.join(', ')}; ${this.providers.join(', ') || 'no agent CLI'})`,
    );
  }

  // Takes no more jobs; resolves when the jobs in flight have ended. The runner leaves the
  // registry: nothing more is routed to it.
  async close(): Promise<void> {
    if (!this.executor) return;
    clearInterval(this.timer);
    this.executor = undefined;
    // (A registration under way would otherwise write the record again after its removal.)
    await this.registration.idle();
    await this.registry.remove(this.config.RUNNER_ID).catch(() => undefined);
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => this.queues.release(worker)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private async take(job: Job<TaskJob>, token: string | undefined): Promise<string> {
    const executor = this.executor;
    if (!executor) throw new Error('the runner is closing');
    // Every credential of its provider is rate limited (docs/governance.md): no agent CLI is
    // started only to retry; the job waits until the quota is back, the task QUEUED saying why.
    const provider = job.data.provider;
    const until = provider ? (await this.pools.limited([provider])).get(provider) : undefined;
    if (provider && until !== undefined) {
      await this.lifecycle.waitForQuota([job.data.taskId], provider, new Date(until));
      await job.moveToDelayed(until + 50, token);
      throw delayedJob();
    }
    while (this.taking >= executor.concurrency)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.taking += 1;
    try {
      return await executor.take(job, token);
    } finally {
      this.taking -= 1;
      this.waiting.shift()?.();
    }
  }

  // What the executor runs or keeps warm changed: registered again at once, not only at the next
  // interval, since routing reads it (a warm CLI's profile goes to this runner while it has a free
  // slot).
  changed(): void {
    if (this.executor) this.registration.run();
  }

  private async register(): Promise<void> {
    const executor = this.executor;
    if (!executor) return;
    const { slots, running, warm } = executor.capacity();
    await this.registry.record({
      id: this.config.RUNNER_ID,
      pool: this.config.RUNNER_POOL,
      executor: executor.kind,
      labels: this.labels,
      providers: this.providers,
      slots,
      running,
      ...(warm && Object.keys(warm).length > 0 ? { warm } : {}),
      seenAt: Date.now(),
      intervalMs: this.config.HEARTBEAT_INTERVAL_MS,
    });
  }
}
