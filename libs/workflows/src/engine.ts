import {
  isTerminalStatus,
  TERMINAL_STEP_STATUSES,
  type AgentStep,
  type RunChanges,
  type RunSnapshot,
  type StepTask,
  type StepWrite,
  type RoutingStrategy,
  type TaskCheck,
  type TaskPriority,
  type WorkflowStep,
  type WorkflowStepRun,
  type WorkflowStepStatus,
} from '@hangar/contracts';
import { holds, renderTemplate, structuredOutput, valueAt, type RunContext } from './run-context';

// What a person asked of a run, carried by the engine's queue.
export type RunRequest =
  | { kind: 'cancel'; by: string }
  | { kind: 'decide'; key: string; approved: boolean; by: string; comment?: string }
  // The orchestrator could not create a step's task, for good (e.g. its profile was deleted).
  | { kind: 'unstartable'; key: string; error: string };

// A step's task, to be created (idempotently: its id was chosen and stored first) and queued.
export interface TaskStart {
  taskId: string;
  key: string;
  prompt: string;
  priority: TaskPriority;
  profile?: string;
  scenario?: string;
  timeoutSeconds?: number;
  repository?: string;
  ref?: string;
  outputSchema?: Record<string, unknown>;
  check?: TaskCheck;
  workspaceOf?: string;
  // Routing (docs/routing.md): labels its runner must offer; the workflow's strategy.
  requires?: string[];
  routing?: RoutingStrategy;
}

export interface Decision extends RunChanges {
  start: TaskStart[];
  // Tasks to cancel (a cancelled or failed run's).
  cancel: string[];
  // When to look at the run again though nothing happens (a retry's backoff, an approval's
  // timeout, the deadline).
  wakeAt: Date | null;
  // A request that did not apply, and why (e.g. approving a step that is not waiting).
  refused?: string;
}

export interface DecideInput {
  snapshot: RunSnapshot;
  now: Date;
  newTaskId: () => string;
  request?: RunRequest;
}

const TERMINAL = new Set<string>(TERMINAL_STEP_STATUSES);
const ACTIVE = new Set<WorkflowStepStatus>(['RUNNING', 'WAITING']);

export function stepKey(id: string, iteration: number | null, item?: number): string {
  return `${id}${iteration === null ? '' : `@${iteration}`}${item === undefined ? '' : `[${item}]`}`;
}

interface Row {
  key: string;
  stepId: string;
  iteration: number | null;
  item: number | null;
  status: WorkflowStepStatus;
  taskId: string | null;
  attempt: number;
  output: unknown;
  error: string | null;
  dueAt: Date | null;
}

// Where in the run a step is decided: the top level (iteration null) or a loop's iteration.
interface Level {
  loop: { id: string; steps: WorkflowStep[] } | null;
  iteration: number | null;
}

interface LevelOutcome {
  done: boolean;
  // The first step that failed the level (not continueOnError).
  failed: { key: string; error: string } | null;
}

// The engine: given everything stored about a run (and what a person asked), the changes to
// make. A pure function of its input: deciding again on the same state decides the same, so a
// message handled twice, or a decision whose effects were cut short by a crash, is harmless
// (tasks are created by the ids stored with their steps).
export function decide(input: DecideInput): Decision {
  return new Decider(input).decide();
}

class Decider {
  private readonly decision: Decision = { steps: [], start: [], cancel: [], wakeAt: null };
  private readonly rows = new Map<string, Row>();
  private readonly tasks: Map<string, StepTask>;
  private readonly byId = new Map<string, { step: WorkflowStep; loop: string | null }>();
  private readonly snapshot: RunSnapshot;

  constructor(private readonly input: DecideInput) {
    this.snapshot = input.snapshot;
    this.tasks = new Map(input.snapshot.tasks.map((task) => [task.id, task]));
    for (const step of input.snapshot.run.steps) this.rows.set(step.key, toRow(step));
    for (const step of input.snapshot.definition.steps) {
      this.byId.set(step.id, { step, loop: null });
      if (step.type === 'loop')
        for (const child of step.steps) this.byId.set(child.id, { step: child, loop: step.id });
    }
  }

  decide(): Decision {
    const { run } = this.snapshot;
    if (run.status !== 'RUNNING') {
      // Finished: only a cancel still in flight is left to do.
      this.decision.cancel = this.liveTasks();
      if (this.input.request?.kind === 'decide') this.decision.refused = `the run is ${run.status}`;
      return this.decision;
    }
    const cost = this.snapshot.tasks.reduce((sum, task) => sum + (task.costUsd ?? 0), 0);
    if (Math.abs(cost - run.costUsd) > 1e-12) this.decision.run = { costUsd: cost };

    const request = this.input.request;
    if (request?.kind === 'cancel') return this.stop('CANCELLED', `cancelled: by ${request.by}`);
    if (request?.kind === 'decide') this.applyApproval(request);
    if (request?.kind === 'unstartable') {
      const row = this.rows.get(request.key);
      if (row?.status === 'RUNNING' && row.taskId && !this.tasks.has(row.taskId))
        this.write(row, { status: 'FAILED', taskId: null, error: `could not start: ${request.error}` });
    }

    const deadline = run.deadlineAt ? new Date(run.deadlineAt) : null;
    if (deadline && this.input.now >= deadline)
      return this.stop('FAILED', `deadline-exceeded: the run did not finish by ${deadline.toISOString()}`);
    const budget = this.snapshot.definition.budgetUsd;
    if (budget !== undefined && cost > budget) return this.overBudget(cost, budget);

    const outcome = this.progress({ loop: null, iteration: null }, this.snapshot.definition.steps);
    if (outcome.failed)
      return this.stop('FAILED', `step-failed: ${outcome.failed.key}: ${outcome.failed.error}`);
    if (budget !== undefined && cost >= budget && (!outcome.done || this.decision.start.length > 0))
      return this.overBudget(cost, budget);
    if (outcome.done) return this.complete();
    if (deadline) this.wake(deadline);
    return this.decision;
  }

  private overBudget(cost: number, budget: number): Decision {
    return this.stop(
      'FAILED',
      `budget-exceeded: the run has spent $${cost.toFixed(4)} of its $${budget} budget`,
    );
  }

  private complete(): Decision {
    const context = this.context({ loop: null, iteration: null });
    const outputs: Record<string, string> = {};
    for (const [name, template] of Object.entries(this.snapshot.definition.outputs)) {
      try {
        outputs[name] = renderTemplate(template, context);
      } catch (error) {
        return this.stop('FAILED', `step-failed: outputs.${name}: ${messageOf(error)}`);
      }
    }
    this.decision.run = { ...this.decision.run, status: 'COMPLETED', outputs };
    return this.decision;
  }

  // Ends the run: what is still going is cancelled, what has not started never will.
  private stop(status: 'FAILED' | 'CANCELLED', error: string): Decision {
    this.decision.start = [];
    for (const row of this.rows.values())
      if (!TERMINAL.has(row.status)) this.write(row, { status: 'CANCELLED', error: row.error ?? error });
    this.decision.cancel = this.liveTasks();
    this.decision.run = {
      ...this.decision.run,
      status,
      error,
      ...(status === 'CANCELLED' ? { cancelRequested: true } : {}),
    };
    this.decision.wakeAt = null;
    return this.decision;
  }

  private liveTasks(): string[] {
    return this.snapshot.tasks.filter((task) => !isTerminalStatus(task.status)).map((task) => task.id);
  }

  private applyApproval(request: Extract<RunRequest, { kind: 'decide' }>) {
    const row = this.rows.get(request.key);
    const step = row && this.byId.get(row.stepId)?.step;
    if (!row || step?.type !== 'approval' || row.status !== 'WAITING') {
      this.decision.refused = `step ${request.key} is not waiting for an approval`;
      return;
    }
    const answer = { approved: request.approved, by: request.by, comment: request.comment ?? null };
    this.write(row, {
      status: request.approved ? 'COMPLETED' : 'FAILED',
      output: { ...(isObject(row.output) ? row.output : {}), ...answer },
      decidedBy: request.by,
      comment: request.comment ?? null,
      error: request.approved
        ? null
        : `rejected by ${request.by}${request.comment ? `: ${request.comment}` : ''}`,
    });
  }

  // Moves every step of a level as far as it can go, until nothing more changes.
  private progress(level: Level, steps: WorkflowStep[]): LevelOutcome {
    for (let pass = 0; pass <= steps.length; pass += 1) {
      const before = this.decision.steps.length;
      for (const step of steps) this.progressStep(level, step);
      if (this.decision.steps.length === before) break;
    }
    let done = true;
    for (const step of steps) {
      const row = this.rows.get(stepKey(step.id, level.iteration));
      if (!row || !TERMINAL.has(row.status)) {
        done = false;
        continue;
      }
      if ((row.status === 'FAILED' || row.status === 'CANCELLED') && !step.continueOnError)
        return { done: false, failed: { key: row.key, error: row.error ?? row.status.toLowerCase() } };
    }
    return { done, failed: null };
  }

  private progressStep(level: Level, step: WorkflowStep) {
    const key = stepKey(step.id, level.iteration);
    const row = this.rows.get(key);
    if (!row) return this.maybeStart(level, step, key);
    if (TERMINAL.has(row.status)) return;
    if (step.type === 'approval') return this.progressApproval(row, step.timeoutSeconds);
    if (step.type === 'loop') return this.progressLoop(row, step);
    if (step.forEach) return this.progressFanOut(level, step, row);
    return this.progressAgent(level, step, row, undefined);
  }

  private maybeStart(level: Level, step: WorkflowStep, key: string) {
    const needs = step.needs.map((need) => this.rows.get(stepKey(need, level.iteration)));
    if (needs.some((need) => !need || !TERMINAL.has(need.status))) return;
    const base = { key, stepId: step.id, iteration: level.iteration, item: null };
    const skipped = needs.find((need) => need!.status === 'SKIPPED');
    if (skipped)
      return this.create({ ...base, status: 'SKIPPED', error: `skipped: ${skipped.key} was skipped` });
    const context = this.context(level);
    if (step.when && !holds(step.when, context))
      return this.create({ ...base, status: 'SKIPPED', error: 'skipped: its condition does not hold' });
    if (step.type === 'approval') {
      let message: string;
      try {
        message = renderTemplate(step.message, context);
      } catch (error) {
        return this.create({ ...base, status: 'FAILED', error: `message: ${messageOf(error)}` });
      }
      const dueAt = new Date(this.input.now.getTime() + step.timeoutSeconds * 1000);
      this.wake(dueAt);
      return this.create({ ...base, status: 'WAITING', output: { message }, dueAt });
    }
    if (step.type === 'loop') {
      const row = this.create({ ...base, status: 'RUNNING', iteration: 1 });
      return this.progressLoop(row, step);
    }
    if (step.forEach) {
      const row = this.create({ ...base, status: 'RUNNING' });
      return this.progressFanOut(level, step, row);
    }
    if (!this.hasRoom()) return; // decided again when one of the run's tasks ends
    const taskId = this.input.newTaskId();
    const row = this.create({ ...base, status: 'RUNNING', taskId, attempt: 1 });
    this.startTask(level, step, row, undefined);
  }

  // Whether the run may have one more task queued or running (its definition's concurrency).
  private hasRoom(): boolean {
    const limit = this.snapshot.definition.concurrency;
    if (limit === undefined) return true;
    let active = 0;
    for (const row of this.rows.values()) {
      if (row.status !== 'RUNNING' || !row.taskId) continue;
      const task = this.tasks.get(row.taskId);
      if (!task || !isTerminalStatus(task.status)) active += 1;
    }
    return active < limit;
  }

  private progressApproval(row: Row, timeoutSeconds: number) {
    if (row.status !== 'WAITING') return;
    if (row.dueAt && this.input.now >= row.dueAt)
      return this.write(row, { status: 'FAILED', error: `approval timed out after ${timeoutSeconds} s` });
    if (row.dueAt) this.wake(row.dueAt);
  }

  // A loop's row holds its current iteration; its steps' rows are keyed by it.
  private progressLoop(row: Row, step: Extract<WorkflowStep, { type: 'loop' }>) {
    for (;;) {
      const iteration = row.iteration ?? 1;
      const level: Level = { loop: { id: step.id, steps: step.steps }, iteration };
      const outcome = this.progress(level, step.steps);
      if (outcome.failed)
        return this.write(row, { status: 'FAILED', error: `${outcome.failed.key}: ${outcome.failed.error}` });
      if (!outcome.done) return;
      if (holds(step.until, this.context(level)))
        return this.write(row, { status: 'COMPLETED', output: { iterations: iteration } });
      if (iteration >= step.maxIterations)
        return this.write(row, {
          status: 'FAILED',
          output: { iterations: iteration },
          error: `its condition did not hold after ${step.maxIterations} iteration(s)`,
        });
      this.write(row, { status: 'RUNNING', iteration: iteration + 1 });
    }
  }

  // One task per item, `concurrency` at a time; the step's output is the items' outputs.
  private progressFanOut(level: Level, step: AgentStep, row: Row) {
    const forEach = step.forEach!;
    const items = valueAt(this.context(level), forEach.items);
    if (!Array.isArray(items))
      return this.write(row, {
        status: 'FAILED',
        error: `forEach: ${forEach.items} is not a list (it is ${items === null ? 'null' : typeof items})`,
      });
    let active = 0;
    let failed: Row | undefined;
    const pending: number[] = [];
    for (let index = 0; index < items.length; index += 1) {
      const itemRow = this.rows.get(stepKey(step.id, level.iteration, index));
      if (!itemRow) pending.push(index);
      else {
        if (ACTIVE.has(itemRow.status)) this.progressAgent(level, step, itemRow, items[index]);
        if (ACTIVE.has(itemRow.status)) active += 1;
        else if (itemRow.status === 'FAILED' || itemRow.status === 'CANCELLED') failed ??= itemRow;
      }
    }
    // After an item failed, no new one starts: the step fails once those running end.
    if (!failed || step.continueOnError) {
      for (const index of pending) {
        if (active >= forEach.concurrency || !this.hasRoom()) break;
        const taskId = this.input.newTaskId();
        const itemRow = this.create({
          key: stepKey(step.id, level.iteration, index),
          stepId: step.id,
          iteration: level.iteration,
          item: index,
          status: 'RUNNING',
          taskId,
          attempt: 1,
        });
        this.startTask(level, step, itemRow, items[index]);
        active += 1;
      }
      if (active > 0 || pending.length > 0) return;
    } else if (active > 0) return;
    const outputs = items.map(
      (_, index) => this.rows.get(stepKey(step.id, level.iteration, index))?.output ?? null,
    );
    if (failed && !step.continueOnError)
      return this.write(row, {
        status: 'FAILED',
        output: outputs,
        error: `${failed.key}: ${failed.error ?? 'failed'}`,
      });
    this.write(row, { status: 'COMPLETED', output: outputs });
  }

  // An agent step (or one fan-out item): its task ended → its output, a retry, or a failure.
  private progressAgent(level: Level, step: AgentStep, row: Row, item: unknown): void {
    if (row.status === 'WAITING') {
      // A failed attempt waiting for its backoff.
      if (row.dueAt && this.input.now < row.dueAt) return this.wake(row.dueAt);
      if (!this.hasRoom()) return;
      const taskId = this.input.newTaskId();
      this.write(row, { status: 'RUNNING', taskId, attempt: row.attempt + 1, dueAt: null });
      return this.startTask(level, step, row, item);
    }
    const task = row.taskId ? this.tasks.get(row.taskId) : undefined;
    if (!task) {
      // Decided, but its task was never created (a crash between the two): create it now.
      if (this.decision.start.some((start) => start.key === row.key)) return;
      return this.startTask(level, step, row, item);
    }
    if (!isTerminalStatus(task.status)) return;
    let error: string;
    if (task.status === 'COMPLETED') {
      if (!step.output)
        return this.write(row, { status: 'COMPLETED', output: task.result ?? '', error: null });
      const parsed = structuredOutput(task.result, step.output.schema);
      if (parsed.ok) return this.write(row, { status: 'COMPLETED', output: parsed.value, error: null });
      error = `output: ${parsed.error}`;
    } else error = task.error ?? `its task was ${task.status.toLowerCase()}`;
    if (task.status !== 'CANCELLED' && row.attempt <= step.retries.max) {
      const delay = step.retries.backoffSeconds * 1000 * 2 ** (row.attempt - 1);
      const dueAt = new Date(this.input.now.getTime() + delay);
      this.write(row, { status: 'WAITING', error, dueAt });
      if (delay === 0) return this.progressAgent(level, step, row, item);
      return this.wake(dueAt);
    }
    this.write(row, { status: 'FAILED', error });
  }

  private startTask(level: Level, step: AgentStep, row: Row, item: unknown) {
    const context = this.context(level, item === undefined ? undefined : { item });
    let prompt: string;
    try {
      prompt = renderTemplate(step.prompt, context);
    } catch (error) {
      return this.write(row, { status: 'FAILED', taskId: null, error: `prompt: ${messageOf(error)}` });
    }
    const start: TaskStart = {
      taskId: row.taskId!,
      key: row.key,
      prompt,
      priority: this.snapshot.definition.priority,
    };
    if (step.profile) start.profile = step.profile;
    if (step.scenario) start.scenario = step.scenario;
    if (step.timeoutSeconds) start.timeoutSeconds = step.timeoutSeconds;
    if (step.output) start.outputSchema = step.output.schema;
    if (step.check) start.check = step.check;
    if (step.requires?.length) start.requires = step.requires;
    if (this.snapshot.definition.routing) start.routing = this.snapshot.definition.routing.strategy;
    const workspace = step.workspace;
    if ('repository' in workspace) {
      start.repository = workspace.repository;
      if (workspace.ref) start.ref = workspace.ref;
    } else if ('sameAs' in workspace) {
      const owner = this.workspaceTask(workspace.sameAs, level);
      if (!owner)
        return this.write(row, {
          status: 'FAILED',
          taskId: null,
          error: `workspace: step ${workspace.sameAs} has no workspace to share (it did not run)`,
        });
      start.workspaceOf = owner.taskId;
      if (owner.repository) start.repository = owner.repository;
    }
    this.decision.start.push(start);
  }

  // The task whose folder a `sameAs` step works in: the first of the chain of steps sharing it.
  private workspaceTask(id: string, level: Level): { taskId: string; repository?: string } | undefined {
    const entry = this.byId.get(id);
    if (entry?.step.type !== 'agent') return undefined;
    const iteration =
      entry.loop && level.loop?.id === entry.loop ? level.iteration : this.lastIteration(entry.loop);
    const row = this.rows.get(stepKey(id, iteration));
    if (!row?.taskId) return undefined;
    const workspace = entry.step.workspace;
    if ('sameAs' in workspace) return this.workspaceTask(workspace.sameAs, { loop: null, iteration: null });
    return { taskId: row.taskId, ...('repository' in workspace ? { repository: workspace.repository } : {}) };
  }

  private lastIteration(loopId: string | null): number | null {
    if (!loopId) return null;
    return this.rows.get(stepKey(loopId, null))?.iteration ?? null;
  }

  // What templates and conditions read at a level (and for a fan-out item).
  private context(level: Level, extra: { item: unknown } | undefined = undefined): RunContext {
    const steps: Record<string, unknown> = {};
    for (const [id, entry] of this.byId) {
      const iteration =
        entry.loop && level.loop?.id === entry.loop ? level.iteration : this.lastIteration(entry.loop);
      const row = this.rows.get(stepKey(id, iteration));
      if (row) steps[id] = this.stepContext(row, entry.step);
    }
    const context: RunContext = { inputs: this.snapshot.run.inputs, steps };
    if (level.loop && level.iteration !== null) {
      // Every step of the loop is named (null in the first iteration), so a template can ask
      // {{#if loop.previous.review}} in strict mode.
      const previous: Record<string, unknown> = {};
      for (const step of level.loop.steps) {
        const row = level.iteration > 1 ? this.rows.get(stepKey(step.id, level.iteration - 1)) : undefined;
        previous[step.id] = row ? this.stepContext(row, step) : null;
      }
      context.loop = { iteration: level.iteration, previous };
    }
    if (extra) context.item = extra.item;
    return context;
  }

  // A step as templates and conditions see it: its status and output, and an agent step's check
  // (its task's, null until it ran).
  private stepContext(row: Row, step: WorkflowStep): Record<string, unknown> {
    if (step.type !== 'agent' || !step.check) return { status: row.status, output: row.output };
    const check = row.taskId ? (this.tasks.get(row.taskId)?.check ?? null) : null;
    return { status: row.status, output: row.output, check };
  }

  private wake(at: Date) {
    if (!this.decision.wakeAt || at < this.decision.wakeAt) this.decision.wakeAt = at;
  }

  private create(write: Omit<StepWrite, 'dueAt'> & { dueAt?: Date | null }): Row {
    const row: Row = {
      key: write.key,
      stepId: write.stepId,
      iteration: write.iteration,
      item: write.item,
      status: write.status,
      taskId: write.taskId ?? null,
      attempt: write.attempt ?? 1,
      output: write.output ?? null,
      error: write.error ?? null,
      dueAt: write.dueAt ?? null,
    };
    this.rows.set(row.key, row);
    this.decision.steps.push({ ...write });
    return row;
  }

  // Changes a row, here and in the decision (one write per key: the latest wins).
  private write(row: Row, change: Partial<Omit<StepWrite, 'key' | 'stepId' | 'item'>>) {
    Object.assign(row, {
      ...change,
      ...(change.output !== undefined ? { output: change.output } : {}),
    });
    const index = this.decision.steps.findIndex((step) => step.key === row.key);
    const merged: StepWrite = {
      ...(index >= 0 ? this.decision.steps[index] : {}),
      key: row.key,
      stepId: row.stepId,
      iteration: row.iteration,
      item: row.item,
      ...change,
      status: row.status,
    };
    if (index >= 0) this.decision.steps[index] = merged;
    else this.decision.steps.push(merged);
  }
}

function toRow(step: WorkflowStepRun): Row {
  return {
    key: step.key,
    stepId: step.stepId,
    iteration: step.iteration,
    item: step.item,
    status: step.status,
    taskId: step.taskId,
    attempt: step.attempt,
    output: step.output ?? null,
    error: step.error,
    dueAt: step.dueAt ? new Date(step.dueAt) : null,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
