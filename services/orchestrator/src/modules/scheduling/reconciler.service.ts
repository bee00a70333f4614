import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TaskAdmission, TaskRepository } from '@hangar/db';
import { Periodic, TaskLifecycle } from '@hangar/platform';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from '../../config';
import { SchedulerService } from './scheduler.service';
import { TaskRouter } from './task-router';

// The safety net under the pub/sub transport: at start and then periodically, QUEUED tasks
// are (re)enqueued — a task accepted while the orchestrator was down still runs — and
// RUNNING tasks whose runner stopped reporting are retried or failed, never left RUNNING.
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcilerService.name);
  private readonly periodic: Periodic;

  constructor(
    private readonly tasks: TaskRepository,
    private readonly router: TaskRouter,
    private readonly lifecycle: TaskLifecycle,
    private readonly admission: TaskAdmission,
    private readonly scheduler: SchedulerService,
    @Inject(ORCHESTRATOR_CONFIG) private readonly config: OrchestratorConfig,
  ) {
    this.periodic = new Periodic('reconcile', config.RECONCILE_INTERVAL_MS, () => this.reconcile());
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async onApplicationShutdown() {
    await this.periodic.stop();
  }

  // The pass in progress has ended (the one at start, say).
  idle(): Promise<void> {
    return this.periodic.idle();
  }

  async reconcile(): Promise<void> {
    // Admitted tasks are on the queue (again, after a lost message or a Redis restart: the job
    // id dedupes); waiting ones are admitted as far as their project's cap allows.
    await this.router.route(await this.admission.admittedQueued());
    for (const projectId of await this.admission.waitingProjects()) await this.scheduler.admit(projectId);
    const staleBefore = new Date(Date.now() - this.config.RUNNER_HEARTBEAT_TIMEOUT_MS);
    for (const task of await this.tasks.listStaleRunning(staleBefore)) {
      await this.recoverLost(task);
    }
    // Delegation (docs/delegation.md): a parent's end cancels its children; one that outlived
    // its parent (the parent's process died right after its end) is cancelled here.
    for (const parentId of await this.tasks.finishedParentsWithLiveChildren())
      await this.lifecycle.cancelChildren(parentId);
  }

  private async recoverLost(task: { id: string; runnerId: string | null; attempts: number }) {
    const runnerId = task.runnerId ?? '';
    const seconds = Math.round(this.config.RUNNER_HEARTBEAT_TIMEOUT_MS / 1000);
    const updated = await this.lifecycle.attemptLost(task, runnerId, {
      reason: 'runner-lost',
      message: `runner ${runnerId || '(unknown)'} sent no heartbeat for ${seconds}s`,
      retry: true,
    });
    if (!updated) return;
    this.logger.warn(
      `${updated.error ?? 'runner-lost'}; task ${task.id} ${updated.status === 'QUEUED' ? 'retried' : 'failed'}`,
    );
    if (updated.status === 'QUEUED') await this.router.route(await this.admission.queuedIn([task.id]));
  }
}
