import { Inject, Injectable, Logger } from '@nestjs/common';
import { STREAM_RETENTION_SECONDS_DEFAULT, TASK_MAX_ATTEMPTS_DEFAULT } from '@hangar/config';
import {
  HangarError,
  type Approval,
  type Task,
  type TaskSandbox,
  TERMINAL_STATUSES,
  type TaskEndedJob,
  taskEndedRecord,
  type WorkflowJob,
} from '@hangar/contracts';
import {
  ApprovalRepository,
  type NewTask,
  TaskEventRepository,
  TaskRepository,
  type RunOutcome,
} from '@hangar/db';
import {
  TaskStateStore,
  type ChildCreation,
  type ChosenCreation,
  type ChosenGate,
  type ChosenStatement,
} from '@hangar/db/task-state';
import {
  MetricRecordStream,
  Queues,
  SCHEDULING_QUEUE_SPEC,
  TaskEventLog,
  TaskEventStream,
  WORKFLOW_QUEUE_SPEC,
  type QueueProducer,
} from '@hangar/redis';
import { activeTraceField } from '@hangar/observability';
import { TaskActivity } from './task-activity';

export const LIFECYCLE_SETTINGS = Symbol('LIFECYCLE_SETTINGS');

export interface LifecycleSettings {
  // Runs a task gets when a run is lost to the infrastructure (libs/config taskMaxAttempts).
  TASK_MAX_ATTEMPTS: number;
  // How long a finished task keeps its Redis stream for late subscribers.
  STREAM_RETENTION_SECONDS: number;
}

export const DEFAULT_LIFECYCLE_SETTINGS: LifecycleSettings = {
  TASK_MAX_ATTEMPTS: TASK_MAX_ATTEMPTS_DEFAULT,
  STREAM_RETENTION_SECONDS: STREAM_RETENTION_SECONDS_DEFAULT,
};

// An attempt that ended without an outcome of its own (a runner gone silent, a Job deleted, a
// pod that could not start): why, and whether another attempt could do better.
export interface LostAttempt {
  reason: string;
  message: string;
  retry: boolean;
}

export type CancelOutcome =
  | { kind: 'cancelled'; task: Task }
  | { kind: 'requested'; task: Task }
  | { kind: 'not-found' }
  | { kind: 'finished'; task: Task };

// The one owner of a task's state. Every change is a guarded update (a runner that lost its
// task, or a message handled twice, changes nothing), then the `task.status` event in the task's
// own sequence, then the project's and conversation's activity — in that order, here and nowhere
// else. The retry policy is here too. Services call these use cases; `TaskStateStore`, the
// writes themselves, is imported by this file alone (eslint no-restricted-imports).
@Injectable()
export class TaskLifecycle {
  private readonly logger = new Logger(TaskLifecycle.name);
  private readonly workflows: QueueProducer<WorkflowJob>;
  private readonly scheduling: QueueProducer<TaskEndedJob>;

  constructor(
    private readonly state: TaskStateStore,
    private readonly tasks: TaskRepository,
    private readonly stream: TaskEventStream,
    private readonly events: TaskEventRepository,
    private readonly approvals: ApprovalRepository,
    private readonly activity: TaskActivity,
    @Inject(LIFECYCLE_SETTINGS) private readonly settings: LifecycleSettings,
    queues: Queues,
    private readonly records: MetricRecordStream,
  ) {
    this.workflows = queues.producer(WORKFLOW_QUEUE_SPEC);
    this.scheduling = queues.producer(SCHEDULING_QUEUE_SPEC);
  }

  get maxAttempts(): number {
    return this.settings.TASK_MAX_ATTEMPTS;
  }

  // A new QUEUED task, its status told; `onRecorded` runs before anyone is told (a conversation's
  // user message must precede the turn's status).
  async create(input: NewTask, onRecorded?: (task: Task) => Promise<void>): Promise<Task> {
    const { task, told } = await this.record(input, onRecorded);
    await told;
    return task;
  }

  // As create, answered once the task is committed: `told` settles (never rejects: the topics are
  // best effort) once its status is on its project's and conversation's topics. The gateway
  // answers the request meanwhile, and tells the orchestrator of the task only after `told`, as
  // it did when the request waited for it: its runner's RUNNING follows its QUEUED.
  async record(
    input: NewTask,
    onRecorded?: (task: Task) => Promise<void>,
  ): Promise<{ task: Task; told: Promise<void> }> {
    const { task, counts } = await this.state.createCounted(input);
    await onRecorded?.(task);
    return { task, told: this.activity.statusChanged(task, undefined, counts) };
  }

  // Tasks whose ids were chosen (and stored with their workflow steps) before they exist,
  // together: each created once, however often this is called — after a crash, or by two
  // deciders at once. Those whose profile does not exist are answered, not created. `admitted`
  // (the scheduler's call) creates them admitted and answers what routing needs of them.
  // `alongside` runs while they are told (what may happen before they can be queued, such as
  // their admission: the telling is on the path from a step's end to its next task's job).
  async createChosen(
    inputs: (NewTask & { id: string })[],
    options: { admitted?: boolean } = {},
    alongside?: (created: Task[]) => Promise<void>,
  ): Promise<ChosenCreation> {
    const outcome = await this.state.createChosen(inputs, options);
    await this.chosenCreated(outcome, alongside);
    return outcome;
  }

  // createChosen in two halves, for a caller that creates the tasks inside a statement of its
  // own (the workflow engine stores a decision and the tasks it starts together: one commit on
  // the path from a step's end to its next task): the statement's parts, gated on a relation of
  // the caller's statement; then, once it ran, chosenCreated with its outcome.
  chosenStatement(
    inputs: (NewTask & { id: string })[],
    options: { admitted?: boolean },
    gate: ChosenGate,
  ): ChosenStatement {
    return this.state.chosenStatement(inputs, options, gate);
  }

  // Told before they can be queued: their project's watchers hear QUEUED before RUNNING.
  async chosenCreated(
    outcome: ChosenCreation,
    alongside?: (created: Task[]) => Promise<void>,
  ): Promise<void> {
    await Promise.all([
      this.activity.statusesChanged(outcome.created, outcome.counts),
      alongside?.(outcome.created),
    ]);
  }

  // A child task (delegation, docs/delegation.md) with the id its parent's runner chose: created
  // once however often asked, and refused past the parent's `maxChildren`.
  async createChild(
    input: NewTask & { id: string; parentTaskId: string },
    maxChildren: number,
  ): Promise<ChildCreation> {
    const outcome = await this.state.createChild(input, maxChildren);
    if (outcome.kind === 'created') await this.activity.statusChanged(outcome.task);
    return outcome;
  }

  // A runner takes attempt `attempt` of a QUEUED task. Null when someone else took it or it was
  // cancelled (the queue's job is stale). Answers the attempt's log too: its RUNNING is the log's
  // first event, and what the run records follows it in the same sequence.
  async claim(
    taskId: string,
    attempt: number,
    runnerId: string,
    claim: { workspace: string; sandbox: TaskSandbox },
  ): Promise<{ task: Task; log: TaskEventLog; announced: Promise<void> } | null> {
    const task = await this.state.claim(taskId, runnerId, claim.workspace, attempt, claim.sandbox);
    if (!task) return null;
    const log = await this.freshLog(task);
    // The claim is committed: the runner prepares its run while RUNNING is announced. It records
    // nothing before `announced` settles (RUNNING is numbered first) and starts no agent if it failed.
    const announced = this.announce(task, undefined, log);
    announced.catch(() => undefined);
    return { task, log, announced };
  }

  // A runner's liveness on its tasks; answers which of them it must stop.
  heartbeat(runnerId: string, taskIds: string[]): Promise<string[]> {
    return this.state.heartbeat(runnerId, taskIds);
  }

  recordWorkspace(
    taskId: string,
    runnerId: string,
    workspace: { dir: string; branch: string | null; baseCommit: string | null },
  ): Promise<void> {
    return this.state.recordWorkspace(taskId, runnerId, workspace);
  }

  markPushed(taskId: string): Promise<void> {
    return this.state.markPushed(taskId);
  }

  // The run's outcome, from the runner that holds the task (null: it no longer does).
  async finish(
    taskId: string,
    runnerId: string,
    outcome: RunOutcome,
    log?: TaskEventLog,
  ): Promise<Task | null> {
    const finished = await this.state.finish(taskId, runnerId, outcome);
    if (finished) await this.announce(finished, outcome.error ?? undefined, log);
    return finished;
  }

  // The runner stops before the run ends (its shutdown): the task waits for another runner.
  async requeue(taskId: string, runnerId: string, reason: string, log?: TaskEventLog): Promise<Task | null> {
    const requeued = await this.state.requeue(taskId, runnerId, reason);
    if (requeued) await this.announce(requeued, reason, log);
    return requeued;
  }

  // The retry policy: a lost attempt goes back to QUEUED while attempts remain and the failure
  // is one another attempt could overcome; otherwise the task fails, saying why and how many
  // attempts it had.
  async attemptLost(
    task: { id: string; attempts: number },
    runnerId: string,
    lost: LostAttempt,
  ): Promise<Task | null> {
    const reason = `${lost.reason}: ${lost.message} (attempt ${task.attempts} of ${this.maxAttempts})`;
    const updated =
      lost.retry && task.attempts < this.maxAttempts
        ? await this.state.requeue(task.id, runnerId, reason)
        : await this.state.failLost(task.id, runnerId, reason);
    if (updated) await this.announce(updated, reason);
    return updated;
  }

  // An attempt that never started (its pod could not be made, scheduled or pulled): the task
  // fails as it waits, guarded on the attempt so a later one is never touched.
  async failUnstarted(taskId: string, attempt: number, reason: string): Promise<Task | null> {
    const failed = await this.state.failUnstarted(taskId, attempt, reason);
    if (failed) await this.announce(failed, reason);
    return failed;
  }

  // A QUEUED task is cancelled at once; a RUNNING one is asked to stop (its runner finishes it
  // as CANCELLED); a finished one stays as it is.
  async cancel(taskId: string): Promise<CancelOutcome> {
    for (;;) {
      const task = await this.tasks.find(taskId);
      if (!task) return { kind: 'not-found' };
      if (task.status === 'QUEUED') {
        const cancelled = await this.state.cancelQueued(taskId);
        if (cancelled) {
          await this.announce(cancelled, 'cancelled before it started');
          return { kind: 'cancelled', task: cancelled };
        }
        continue; // it started in between: cancel it as a running task
      }
      if (task.status === 'RUNNING') {
        await this.state.requestCancel(taskId);
        return { kind: 'requested', task };
      }
      return { kind: 'finished', task };
    }
  }

  // These QUEUED tasks wait for their provider's quota until `until` (docs/governance.md): each
  // says so once per wait, as a `task.status` event (still QUEUED, with the reason) and on the
  // activity topics; the task's `waiting` shows it until it is admitted or claimed.
  async waitForQuota(taskIds: readonly string[], provider: string, until: Date): Promise<void> {
    const reason = `provider-quota: every ${provider} credential is rate limited until ${until.toISOString()}`;
    for (const task of await this.state.markWaiting(taskIds, 'provider-quota', until)) {
      const log = await this.freshLog(task);
      await log.append([{ type: 'task.status', data: { status: 'QUEUED', reason } }]);
      await log.flush();
      await this.activity.statusChanged(task, reason);
    }
  }

  // A tool call of the running attempt's agent waits for a person (docs/governance.md): the task
  // says so live (its `waiting`, an `approval.requested` event, its project's activity).
  async approvalAsked(task: Task, approval: Approval): Promise<void> {
    const waiting = await this.state.markWaitingForApproval(
      task.id,
      approval.attempt,
      new Date(approval.deadline),
    );
    const log = await this.freshLog(task);
    await log.append([
      {
        type: 'approval.requested',
        data: {
          approvalId: approval.id,
          tool: approval.tool,
          input: approval.input,
          rule: approval.rule,
          deadline: approval.deadline,
        },
      },
    ]);
    await log.flush();
    if (waiting)
      await this.activity.statusChanged(
        waiting,
        `approval: ${approval.tool} waits for an operator until ${approval.deadline}`,
      );
  }

  // An approval was answered or expired (by whoever did: the person's answer, the runner at its
  // deadline, the attempt's end): an `approval.answered` event, and the task waits no more once
  // none of its approvals is pending. The waiting agent reads the answer itself.
  async approvalClosed(approval: Approval): Promise<void> {
    await this.state.clearApprovalWaiting(approval.taskId);
    const task = await this.tasks.find(approval.taskId);
    if (!task) return;
    const closedAt = approval.answeredAt ? Date.parse(approval.answeredAt) : Date.now();
    const log = await this.freshLog(task);
    await log.append([
      {
        type: 'approval.answered',
        data: {
          approvalId: approval.id,
          tool: approval.tool,
          status: approval.status === 'PENDING' ? 'EXPIRED' : approval.status,
          decision: approval.decision,
          by: approval.answeredBy,
          message: approval.message,
          waitedMs: Math.max(0, closedAt - Date.parse(approval.createdAt)),
        },
      },
    ]);
    await log.flush();
  }

  // The change told: the `task.status` event in the task's own sequence (through the attempt's
  // log when there is one, so it follows what the run recorded), then the activity topics.
  private async announce(task: Task, reason: string | undefined, attemptLog?: TaskEventLog): Promise<void> {
    const terminal = TERMINAL_STATUSES.includes(task.status);
    // What follows from the change, before its event and at once (none waits on another; each is
    // a round trip, on the way of a task's end to its clients). With none (a first attempt's
    // RUNNING), the event is appended before this returns to its caller: numbered before
    // anything the caller records next.
    const endedAttempts = task.status === 'RUNNING' ? task.attempts - 1 : task.attempts;
    const following = [
      endedAttempts > 0 ? this.expireApprovals(task.id, endedAttempts) : undefined,
      terminal && task.workflowRunId ? this.advanceWorkflow(task, task.workflowRunId) : undefined,
      // Its project may have room for a waiting task now.
      terminal
        ? this.scheduling.add(
            'ended',
            { taskId: task.id, ...activeTraceField() },
            { jobId: `ended-${task.id}-${task.status}` },
          )
        : undefined,
      // Its children's work has no one to report to any more.
      terminal ? this.cancelChildren(task.id) : undefined,
    ].filter((step) => step !== undefined);
    if (following.length > 0) await Promise.all(following);
    const log = attemptLog ?? (await this.freshLog(task));
    await log.append([{ type: 'task.status', data: { status: task.status, ...(reason ? { reason } : {}) } }]);
    await log.flush();
    await this.activity.statusChanged(task, reason);
    if (terminal) await this.stream.expire(task.id, this.settings.STREAM_RETENTION_SECONDS);
    // Its sample for the metrics service. Best effort: one lost here (Redis away) is rebuilt
    // from the task by the metrics service's reconciler.
    if (terminal)
      await this.records
        .append([taskEndedRecord(task)])
        .catch((error: unknown) =>
          this.logger.warn(
            `task ${task.id}: its metrics record was not sent (${error instanceof Error ? error.message : String(error)}); the metrics service's reconciler will take it from the task`,
          ),
        );
  }

  // No agent of an ended attempt waits for an answer any more.
  private async expireApprovals(taskId: string, endedAttempts: number): Promise<void> {
    for (const expired of await this.approvals.expireAttempts(
      taskId,
      endedAttempts,
      'the attempt ended before anyone answered',
    ))
      await this.approvalClosed(expired);
  }

  // A workflow step's task ended: the engine decides what comes next. First, as the change is
  // committed: the next step waits on nothing else (durably: the job waits while no
  // orchestrator runs; one job per task and ending, so a repeat adds nothing). How it ended
  // goes with it: an engine that knows the rest of the run decides without reading it.
  private async advanceWorkflow(task: Task, runId: string): Promise<void> {
    await this.workflows.add(
      'advance',
      {
        kind: 'advance',
        runId,
        task: {
          id: task.id,
          status: task.status,
          result: task.result,
          costUsd: task.costUsd,
          error: task.error,
          check: task.checkResult,
        },
      },
      { jobId: `task-${task.id}-${task.status}` },
    );
  }

  // However the parent ended, its unfinished children are cancelled: a queued one at once (and
  // its own children with it), a running one when its runner sees the request (its heartbeat),
  // and its children when it ends; a workflow run by its engine. The orchestrator's reconciler
  // calls it again for a finished parent whose children outlived it (a crash right after the
  // parent's end).
  async cancelChildren(parentTaskId: string): Promise<void> {
    const { taskIds, runIds } = await this.tasks.liveChildren(parentTaskId);
    for (const taskId of taskIds) await this.cancel(taskId);
    // Workflow runs it started: the engine cancels them (and their steps' tasks).
    for (const runId of runIds)
      await this.workflows.add(
        'cancel',
        { kind: 'cancel', runId, by: `task:${parentTaskId}` },
        { jobId: `cancel-${runId}-parent-ended` },
      );
  }

  // A log that numbers after everything already recorded (the stream may be ahead of Postgres:
  // a lost run's last batch).
  async freshLog(task: Task): Promise<TaskEventLog> {
    const minSeq = Math.max(task.lastSeq, await this.stream.lastSeq(task.id)) + 1;
    return new TaskEventLog(task.id, this.stream, this.events, { minSeq });
  }
}

export function cancelRefusal(taskId: string, outcome: CancelOutcome): HangarError | undefined {
  if (outcome.kind === 'not-found') return new HangarError('TASK_NOT_FOUND', `task ${taskId} does not exist`);
  if (outcome.kind === 'finished')
    return new HangarError('INVALID_TRANSITION', `task ${taskId} is already ${outcome.task.status}`);
  return undefined;
}
