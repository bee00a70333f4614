import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  PROVIDERS,
  type RunnerCancelMessage,
  type TaskCancelReply,
  type TaskEndedJob,
  type TraceContext,
} from '@hangar/contracts';
import { activeTraceField, inSpan, SpanKind } from '@hangar/observability';
import { type AdmittedTask, TaskAdmission, TaskRepository } from '@hangar/db';
import { cancelRefusal, OnDemand, TaskLifecycle } from '@hangar/platform';
import { ClientProxy } from '@nestjs/microservices';
import { Patterns } from '@hangar/contracts';
import { lastValueFrom, timeout } from 'rxjs';
import { CredentialPools, Queues, SCHEDULING_QUEUE_SPEC, type QueueProducer } from '@hangar/redis';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from '../../config';
import { RUNNER_CLIENT } from './runner-client';
import { TaskRouter, type RoutingPass } from './task-router';

@Injectable()
export class SchedulerService {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly scheduling: QueueProducer<TaskEndedJob>;
  // The admission passes of each project that has one under way (`admit`).
  private readonly passes = new Map<string, OnDemand>();

  constructor(
    private readonly tasks: TaskRepository,
    private readonly router: TaskRouter,
    private readonly lifecycle: TaskLifecycle,
    private readonly admission: TaskAdmission,
    private readonly pools: CredentialPools,
    queues: Queues,
    @Inject(RUNNER_CLIENT) private readonly runners: ClientProxy,
    @Inject(ORCHESTRATOR_CONFIG) private readonly config: OrchestratorConfig,
  ) {
    this.scheduling = queues.producer(SCHEDULING_QUEUE_SPEC);
  }

  // A task was created: its project admits what its cap allows (idempotent: only waiting tasks
  // are admitted, and a job id dedupes the queue). In a span of the message's trace, which the
  // task's job carries on if this pass queues it (TaskRouter.tracing).
  schedule(taskId: string, projectId?: string, trace?: TraceContext): Promise<void> {
    return inSpan(
      'tasks.created',
      trace,
      (own) => this.router.tracing(taskId, own, () => this.scheduleNow(taskId, projectId)),
      { kind: SpanKind.CONSUMER, attributes: { 'hangar.task_id': taskId } },
    );
  }

  private async scheduleNow(taskId: string, projectId?: string): Promise<void> {
    // Its project told: admitting is all there is to do (a task no longer QUEUED is not admitted).
    if (projectId) return this.admit(projectId);
    const [task] = await this.tasks.jobStates([taskId]);
    if (!task) {
      this.logger.warn(`tasks.created for unknown task ${taskId}; ignored`);
      return;
    }
    if (task.status === 'QUEUED') await this.admit(task.projectId);
  }

  // The project's waiting tasks go onto the runners' queues, high priority first then oldest, as
  // far as MAX_ACTIVE_TASKS_PER_PROJECT allows. Admitted before queued: a crash between the two
  // leaves an admitted QUEUED task, which the reconciler queues.
  // One pass per project at a time (OnDemand): a call while one runs waits for the next pass,
  // which starts when the running one ends and sees every task created meanwhile (the running pass
  // may have read the waiting tasks before the caller's task was there). Calls that arrive
  // together share that pass: under a stream of new tasks each pass admits and queues many of them
  // in one statement and one bulk add, not one each. A failed pass fails every call it served.
  admit(projectId: string): Promise<void> {
    const passes =
      this.passes.get(projectId) ??
      new OnDemand(`admitting project ${projectId}`, () => this.admitPass(projectId));
    this.passes.set(projectId, passes);
    const asked = passes.ask();
    // A project with no pass under way keeps none (projects come and go).
    void asked
      .catch(() => undefined)
      .then(() => {
        if (!passes.busy && this.passes.get(projectId) === passes) this.passes.delete(projectId);
      });
    return asked;
  }

  private async admitPass(projectId: string): Promise<void> {
    // The runners are read while the tasks are admitted, not after.
    const looked = this.router.look();
    looked.catch(() => undefined);
    await this.router.route(await this.admitWaiting(projectId), looked);
  }

  // Without a cap nothing holds a new task back: a caller creating tasks (the workflow engine)
  // creates them admitted, and queues them at once.
  get admitsOnCreation(): boolean {
    return this.config.MAX_ACTIVE_TASKS_PER_PROJECT === 0;
  }

  // The two halves of `admit`, for a caller with something to do in between (the workflow
  // engine, under a cap, tells of its new tasks while they are admitted, then queues them).
  // Tasks of a provider whose every credential is rate limited are not admitted (docs/governance.md):
  // they wait QUEUED with `provider-quota`, no agent CLI started for them, and are admitted
  // when the quota is back (a job delayed until then, `quotaBack`).
  async admitWaiting(projectId: string): Promise<AdmittedTask[]> {
    const limited = await this.pools.limited(PROVIDERS);
    const admitted = await this.admission.admit(projectId, this.config.MAX_ACTIVE_TASKS_PER_PROJECT, 500, [
      ...limited.keys(),
    ]);
    for (const [provider, until] of limited) {
      await this.lifecycle.waitForQuota(
        await this.admission.waitingFor(projectId, provider),
        provider,
        new Date(until),
      );
      await this.scheduling.add(
        'quota',
        { quotaBack: provider },
        { jobId: `quota-${provider}-${until}`, delay: Math.max(0, until - Date.now()) + 50 },
      );
    }
    return admitted;
  }

  // A provider's quota is back: every project with tasks waiting admits them.
  async quotaBack(provider: string): Promise<void> {
    this.logger.log(`${provider} quota is back: admitting the tasks that waited for it`);
    for (const projectId of await this.admission.waitingProjects()) await this.admit(projectId);
  }

  // `looked` (lookForRunners, started while the caller did something else) spares the routing
  // its read of the runners.
  route(tasks: readonly AdmittedTask[], looked?: Promise<RoutingPass>): Promise<void> {
    return this.router.route(tasks, looked);
  }

  lookForRunners(): Promise<RoutingPass> {
    return this.router.look();
  }

  // A runner registered: admitted tasks that waited for one that offers what they require, or
  // sit on the queue of a pool with no live runner, are routed now (the others stay where they
  // are: their jobs exist already).
  async runnerRegistered(): Promise<void> {
    await this.router.route(await this.admission.admittedQueued());
  }

  // A task ended: its project may have room for a waiting one. Without a cap nothing waits for
  // room (tasks are admitted as they are created; the reconciler takes any straggler).
  async taskEnded(taskId: string): Promise<void> {
    if (this.config.MAX_ACTIVE_TASKS_PER_PROJECT === 0) return;
    const [task] = await this.tasks.jobStates([taskId]);
    if (task) await this.admit(task.projectId);
  }

  cancel(taskId: string, trace?: TraceContext): Promise<TaskCancelReply> {
    return inSpan('tasks.cancel', trace, () => this.cancelNow(taskId), {
      kind: SpanKind.SERVER,
      attributes: { 'hangar.task_id': taskId },
    });
  }

  private async cancelNow(taskId: string): Promise<TaskCancelReply> {
    const outcome = await this.lifecycle.cancel(taskId);
    const refused = cancelRefusal(taskId, outcome);
    if (refused) return { ok: false, code: refused.code, message: refused.message };
    if (outcome.kind === 'cancelled') {
      await this.router.remove(taskId, outcome.task.attempts + 1, outcome.task.pool);
      return { ok: true, status: outcome.task.status };
    }
    // Runners also see the request on their next heartbeat; the message makes it immediate.
    const message: RunnerCancelMessage = { taskId, ...activeTraceField() };
    lastValueFrom(this.runners.emit(Patterns.runnerCancel, message).pipe(timeout(5000))).catch(
      (error: unknown) =>
        this.logger.warn(
          `runner.cancel for ${taskId} not sent (${String(error)}); the runner's heartbeat will see it`,
        ),
    );
    return { ok: true, status: 'RUNNING' };
  }
}
