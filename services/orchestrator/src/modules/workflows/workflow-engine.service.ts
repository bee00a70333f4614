import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { StepTask, TaskStatus, WorkflowJob } from '@hangar/contracts';
import { newTaskId, type AdmittedTask, type NewTask } from '@hangar/db';
import { WorkflowRunStore } from '@hangar/db/workflow-state';
import { Periodic, TaskLifecycle, WorkflowRunActivity } from '@hangar/platform';
import { Queues, WORKFLOW_QUEUE_SPEC, type QueueProducer, type QueueWorker } from '@hangar/redis';
import { decide, type Decision, type RunRequest, type TaskStart } from '@hangar/workflows';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from '../../config';
import { SchedulerService } from '../scheduling/scheduler.service';
import type { RoutingPass } from '../scheduling/task-router';
import { WorkflowMetrics } from './workflow.metrics';

// The engine picks a step's task id before the task exists (newTaskId, @hangar/db).
export { newTaskId };

// Drives workflow runs: every message about a run (started, a step's task ended, a person
// cancelled or answered a gate, a timer) becomes one decision of @hangar/workflows' engine,
// stored with the tasks it starts (the task lifecycle's statement for them, by the ids stored
// with their steps, so never twice) and then carried out: those tasks told and queued, tasks of
// a stopped run cancelled, a timer set. A reconciler decides again on every unfinished run at start and
// periodically, so a crash between any two writes loses nothing.
@Injectable()
export class WorkflowEngine implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkflowEngine.name);
  private readonly queue: QueueProducer<WorkflowJob>;
  private worker: QueueWorker<WorkflowJob, void> | undefined;
  private readonly periodic: Periodic;
  // By run: the last work asked for in its turn here (see advance).
  private readonly deciding = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: WorkflowRunStore,
    private readonly lifecycle: TaskLifecycle,
    private readonly activity: WorkflowRunActivity,
    private readonly scheduler: SchedulerService,
    private readonly queues: Queues,
    private readonly metrics: WorkflowMetrics,
    @Inject(ORCHESTRATOR_CONFIG) private readonly config: OrchestratorConfig,
  ) {
    this.queue = queues.producer(WORKFLOW_QUEUE_SPEC);
    this.periodic = new Periodic('workflow reconcile', config.RECONCILE_INTERVAL_MS, () => this.reconcile());
  }

  onApplicationBootstrap() {
    this.worker = this.queues.consumer(WORKFLOW_QUEUE_SPEC, (job) => this.handle(job), {
      concurrency: this.config.WORKFLOW_CONCURRENCY,
    });
    this.worker.on('failed', (job, error) =>
      this.logger.warn(`workflow job ${job?.id ?? '?'} failed: ${error.message}`),
    );
    this.periodic.start();
  }

  async onApplicationShutdown() {
    await this.periodic.stop();
    if (this.worker) await this.queues.release(this.worker);
  }

  // Every unfinished run is decided again (nothing happens when nothing changed), and every
  // finished run with a task still alive gets its cancel again.
  async reconcile(): Promise<void> {
    const runs = new Set([
      ...(await this.store.unfinishedRunIds()),
      ...(await this.store.finishedRunsWithLiveTasks()),
    ]);
    for (const runId of runs) await this.advance(runId);
  }

  async handle(job: WorkflowJob): Promise<void> {
    if (job.kind === 'advance' && job.task) return this.stepEnded(job.runId, job.task, 'job');
    const request: RunRequest | undefined =
      job.kind === 'cancel'
        ? { kind: 'cancel', by: job.by }
        : job.kind === 'decide'
          ? {
              kind: 'decide',
              key: job.key,
              approved: job.approved,
              by: job.by,
              ...(job.comment !== undefined ? { comment: job.comment } : {}),
            }
          : undefined;
    await this.advance(job.runId, request);
  }

  // A step's task ended: heard from PostgreSQL as it committed (StepEndListener), then told by
  // its job. Taken in the run's turn (see advance): the first decides it, the other finds it
  // decided (a decision that fails leaves it to the job, which BullMQ retries). `task`: how it
  // ended, or only its status (then the run is read).
  stepEnded(
    runId: string,
    task: StepTask | { id: string; status: TaskStatus },
    heard: 'notice' | 'job',
  ): Promise<void> {
    return this.inTurn(runId, async () => {
      if (this.store.knowsEnd(runId, task.id, task.status)) return;
      await this.decideNow(runId, undefined, 'result' in task ? task : undefined);
      this.metrics.stepEndDecided(heard);
    });
  }

  private newTask(runId: string, projectId: string, start: TaskStart): NewTask & { id: string } {
    return {
      id: start.taskId,
      projectId,
      prompt: start.prompt,
      priority: start.priority,
      workflowRunId: runId,
      workflowStep: start.key,
      ...(start.profile ? { profile: start.profile } : {}),
      ...(start.scenario ? { scenario: start.scenario } : {}),
      ...(start.timeoutSeconds ? { timeoutSeconds: start.timeoutSeconds } : {}),
      ...(start.repository ? { repository: start.repository } : {}),
      ...(start.ref ? { ref: start.ref } : {}),
      ...(start.outputSchema ? { outputSchema: start.outputSchema } : {}),
      ...(start.check ? { check: start.check } : {}),
      ...(start.workspaceOf ? { workspaceOf: start.workspaceOf } : {}),
      ...(start.requires ? { requires: start.requires } : {}),
      ...(start.routing ? { routing: start.routing } : {}),
    };
  }

  // `ended`: the step's task whose end this is, as its job told it (the run's store then decides
  // on the run as it knows it, without reading it).
  // Decisions of one run are taken here one after another, each on what the one before wrote:
  // taken at once, all but one would find their run changed, and read it and decide again.
  // (Across orchestrators the store's guard still orders them.)
  advance(runId: string, request?: RunRequest, ended?: StepTask): Promise<Decision | null> {
    return this.inTurn(runId, () => this.decideNow(runId, request, ended));
  }

  private inTurn<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const turn = (this.deciding.get(runId) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.deciding.set(runId, turn);
    const forget = () => {
      if (this.deciding.get(runId) === turn) this.deciding.delete(runId);
    };
    turn.then(forget, forget);
    return turn;
  }

  private async decideNow(runId: string, request?: RunRequest, ended?: StepTask): Promise<Decision | null> {
    const started = performance.now();
    // Without a project cap nothing holds a new task back: the tasks a decision starts are
    // created admitted, in the decision's own statement, and queued at once. With one, the
    // project's waiting tasks are admitted while the new ones are told.
    const admitOnCreation = this.scheduler.admitsOnCreation;
    let looked: Promise<RoutingPass> | undefined;
    const outcome = await this.store.advance(
      runId,
      (snapshot) => decide({ snapshot, now: new Date(), newTaskId, ...(request ? { request } : {}) }),
      ended,
      (changes, snapshot, gate) => {
        if (changes.start.length === 0) return undefined;
        // The runners are read while the decision and its tasks are stored (routing needs both).
        looked ??= this.scheduler.lookForRunners();
        looked.catch(() => undefined); // (awaited by route; a failure surfaces there)
        return this.lifecycle.chosenStatement(
          changes.start.map((start) => this.newTask(runId, snapshot.projectId, start)),
          { admitted: admitOnCreation },
          gate,
        );
      },
    );
    if (!outcome) {
      this.logger.warn(`workflow run ${runId} does not exist; message dropped`);
      return null;
    }
    const { changes, told, created } = outcome;
    if (changes.refused) this.logger.warn(`workflow run ${runId}: ${changes.refused}`);
    try {
      if (created && admitOnCreation) {
        // Told and queued at once: the telling is sent first, on the connection the queue's
        // producers share (Queues), so Redis has it before a runner can take a task and tell
        // its RUNNING.
        await Promise.all([
          this.lifecycle.chosenCreated(created),
          this.scheduler.route(created.admitted, looked),
        ]);
      } else if (created) {
        let admitted: AdmittedTask[] = [];
        await this.lifecycle.chosenCreated(created, async () => {
          admitted = await this.scheduler.admitWaiting(outcome.snapshot.projectId);
        });
        await this.scheduler.route(admitted, looked);
      }
      if (created) {
        const elapsed = performance.now() - started;
        for (const _ of created.created) this.metrics.stepStarted(elapsed);
        // Refused for good (its profile was deleted since the run started): the step fails.
        for (const input of created.unknownProfile) {
          const error = `profile "${input.profile ?? 'default'}" does not exist`;
          this.logger.warn(`workflow run ${runId}: step ${input.workflowStep} cannot start: ${error}`);
          await this.decideNow(runId, { kind: 'unstartable', key: input.workflowStep!, error });
        }
      }
    } finally {
      // Committed, and the steps' tasks exist: the run's topic may tell it (a watcher can follow
      // a step's task as soon as it hears of it). Even when starting failed: the change is stored.
      await this.activity.decided(runId, changes, told);
    }
    for (const taskId of changes.cancel) await this.scheduler.cancel(taskId);
    if (changes.wakeAt) {
      const delay = Math.max(0, changes.wakeAt.getTime() - Date.now());
      await this.queue.add(
        'advance',
        { kind: 'advance', runId },
        { jobId: `wake-${runId}-${changes.wakeAt.getTime()}`, delay },
      );
    }
    if (changes.run?.status && changes.run.status !== 'RUNNING') {
      this.metrics.runFinished(changes.run.status);
      this.logger.log(
        `workflow run ${runId} ${changes.run.status}${changes.run.error ? `: ${changes.run.error}` : ''}`,
      );
    }
    return changes;
  }
}
