import {
  TERMINAL_STATUSES,
  TERMINAL_STEP_STATUSES,
  WorkflowDefinitionSchema,
  type RunChanges,
  type StepTask,
  type RunSnapshot,
  type WorkflowDefinition,
  type DecisionTold,
  type WorkflowRun,
} from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { assignments, json, type Sql } from '../sql';
import { timeOrderedId } from '../task-id';
import type { ChosenCreation, ChosenGate, ChosenRow, ChosenStatement } from './task-state.store';
import { stepTypes, toStepRun, toWorkflowRun } from './workflow.repository';

type RunRow = Awaited<ReturnType<PrismaClient['workflowRun']['findUniqueOrThrow']>>;
type StepRow = Awaited<ReturnType<PrismaClient['workflowStep']['findUniqueOrThrow']>>;
// A step row as json_agg gives it: its times are text.
type JsonStep = Omit<StepRow, 'dueAt' | 'createdAt' | 'finishedAt' | 'updatedAt'> & {
  dueAt: string | null;
  createdAt: string;
  finishedAt: string | null;
  updatedAt: string;
};

function stepFromJson(step: JsonStep): StepRow {
  const at = (value: string | null) => (value === null ? null : new Date(value));
  return {
    ...step,
    dueAt: at(step.dueAt),
    createdAt: new Date(step.createdAt),
    finishedAt: at(step.finishedAt),
    updatedAt: new Date(step.updatedAt),
  };
}

// A run as toWorkflowRun takes it, with its count of decisions.
type KnownRow = Parameters<typeof toWorkflowRun>[0] & { decisions: number };

// A run as the engine last read or wrote it: its row, steps and tasks.
interface KnownRun {
  row: KnownRow;
  steps: StepRow[];
  tasks: StepTask[];
  definition: WorkflowDefinition;
}

// Runs kept between decisions, at most (the oldest is forgotten first; a forgotten one is read).
const KNOWN_RUNS = 500;
const TASK_ENDED = TERMINAL_STATUSES as readonly string[];

// The workflow engine's writes to a run and its steps. A decision reads the run (one statement)
// and is stored only if no other decision of the run was stored since (one guarded statement,
// on the run's count of decisions), together with the tasks it starts (the task lifecycle's
// statement for them, inside that one: one commit); otherwise it is taken again on what the
// other wrote. So two orchestrators, or two messages about one run, never both store a
// decision, and nobody holds a lock while deciding: a decision is on the path from a step's end
// to the next step's task, and each statement there costs (node-postgres statements, ../sql.ts).
// Reached as `@hangar/db/workflow-state`, for the orchestrator's engine alone.
export class WorkflowRunStore {
  // Versions never change: each is read once (a decision's reads are what it costs).
  private readonly definitions = new Map<string, WorkflowDefinition>();
  // Unfinished runs as last read or written here, oldest first (see advance).
  private readonly known = new Map<string, KnownRun>();
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  private async definitionOf(workflowId: string, version: number) {
    const key = `${workflowId}:${version}`;
    let definition = this.definitions.get(key);
    if (!definition) {
      const [row] = await this.sql.query<{ definition: unknown }>(Prisma.sql`
        SELECT definition FROM workflow_versions WHERE workflow_id = ${workflowId} AND version = ${version}`);
      if (!row) throw new Error(`workflow ${workflowId} has no version ${version}`);
      definition = WorkflowDefinitionSchema.parse(row.definition);
      if (this.definitions.size > 1000) this.definitions.clear();
      this.definitions.set(key, definition);
    }
    return definition;
  }

  // A decision on the run (null when there is no such run): `decide` sees the run, its steps and
  // their tasks as one statement read them, or, for a task's end (`ended`, as its job tells it),
  // as this store last read or wrote them with that task's end applied: no read on the path from
  // a step's end to the next step's task. Such a decision is stored only if the run's tasks are
  // still as it assumed (besides the count of decisions); otherwise, or when it had nothing to
  // store, it is taken again on a fresh read. `tasks` gives the statement that creates the tasks
  // a decision starts (TaskLifecycle.chosenStatement, gated on the decision's being stored): it
  // runs inside the decision's, and its outcome is answered as `created`.
  async advance<T extends RunChanges>(
    runId: string,
    decide: (snapshot: RunSnapshot) => T | Promise<T>,
    ended?: StepTask,
    tasks?: (changes: T, snapshot: RunSnapshot, gate: ChosenGate) => ChosenStatement | undefined,
  ): Promise<{ snapshot: RunSnapshot; changes: T; told?: DecisionTold; created?: ChosenCreation } | null> {
    let known = ended ? this.known.get(runId) : undefined;
    for (;;) {
      const state = known && ended ? withTask(known, ended) : await this.read(runId);
      if (!state) return null;
      const snapshot: RunSnapshot = {
        run: toWorkflowRun(state.row, state.definition, state.steps),
        projectId: state.row.projectId,
        cancelRequested: state.row.cancelRequestedAt !== null,
        definition: state.definition,
        tasks: state.tasks,
      };
      const changes = await decide(snapshot);
      const creation = tasks?.(changes, snapshot, { relation: 'run' });
      const written = await this.write(runId, state, changes, known !== undefined, creation);
      if (written === 'superseded' || (written === null && known)) {
        // Another decision was stored since, or the run's tasks are not as assumed.
        this.known.delete(runId);
        known = undefined;
        continue;
      }
      this.remember(runId, written ? written.state : state);
      return {
        snapshot,
        changes,
        ...(written ? { told: written.told } : {}),
        ...(written?.created ? { created: written.created } : {}),
      };
    }
  }

  // Whether a decision here saw the run's task end so (the run as last read or written here):
  // another message about that end changes nothing.
  knowsEnd(runId: string, taskId: string, status: string): boolean {
    return this.known.get(runId)?.tasks.some((task) => task.id === taskId && task.status === status) ?? false;
  }

  private remember(runId: string, state: KnownRun): void {
    const held = this.known.get(runId);
    this.known.delete(runId);
    if (state.row.status !== 'RUNNING') return;
    // Writes of one run are ordered by its count of decisions: an older state never replaces a newer.
    this.known.set(runId, held && held.row.decisions > state.row.decisions ? held : state);
    if (this.known.size > KNOWN_RUNS) this.known.delete(this.known.keys().next().value!);
  }

  // The run, its steps and their tasks as one statement sees them (one snapshot).
  private async read(runId: string): Promise<KnownRun | null> {
    const [read] = await this.sql.query<
      RunRow & {
        projectSlug: string;
        workflowName: string;
        decisions: number;
        steps: JsonStep[];
        tasks: StepTask[];
      }
    >(Prisma.sql`
      SELECT r.id, r.workflow_id AS "workflowId", r.version, r.project_id AS "projectId", r.status,
        r.inputs, r.outputs, r.error, r.cost_usd AS "costUsd", r.deadline_at AS "deadlineAt",
        r.cancel_requested_at AS "cancelRequestedAt", r.created_by AS "createdBy",
        r.created_at AS "createdAt", r.finished_at AS "finishedAt", r.updated_at AS "updatedAt",
        r.decisions, p.slug AS "projectSlug", w.name AS "workflowName",
        (SELECT coalesce(json_agg(s ORDER BY s."createdAt", s.key), '[]'::json) FROM (
           SELECT id, run_id AS "runId", key, step_id AS "stepId", iteration, item, status,
             task_id AS "taskId", attempt, output, error, due_at AS "dueAt",
             decided_by AS "decidedBy", comment, created_at AS "createdAt",
             finished_at AS "finishedAt", updated_at AS "updatedAt"
           FROM workflow_steps WHERE run_id = r.id) s) AS steps,
        (SELECT coalesce(json_agg(t), '[]'::json) FROM (
           SELECT id, status, result, cost_usd AS "costUsd", error, check_result AS "check"
           FROM tasks WHERE workflow_run_id = r.id) t) AS tasks
      FROM workflow_runs r JOIN projects p ON p.id = r.project_id JOIN workflows w ON w.id = r.workflow_id
      WHERE r.id = ${runId}`);
    if (!read) return null;
    const { steps, tasks, projectSlug, workflowName, ...row } = read;
    return {
      row: { ...row, project: { slug: projectSlug }, workflow: { name: workflowName } },
      steps: steps.map(stepFromJson),
      tasks,
      definition: await this.definitionOf(read.workflowId, read.version),
    };
  }

  // A decision's writes as one statement: the run's own change with its count of decisions, and
  // every changed step as its whole row (an upsert on the run's key: a new step is inserted, a
  // known one updated) — written only while the run's count is still the one decided on (and,
  // with `tasksAssumed`, while the run's tasks have the ends and costs the decision saw).
  // `creation` (the tasks the decision starts) runs in the same statement, gated on the run's
  // UPDATE. Answers what it wrote as a watcher sees it, the run as it is now (its tasks with the
  // new ones) and the tasks' creation (null when there was nothing to write), or `superseded`
  // when that no longer held (nothing is written then).
  private async write(
    runId: string,
    state: KnownRun,
    changes: RunChanges,
    tasksAssumed: boolean,
    creation?: ChosenStatement,
  ): Promise<
    { told: DecisionTold; state: KnownRun; created: ChosenCreation | undefined } | 'superseded' | null
  > {
    const { row: run, steps, definition } = state;
    const now = new Date();
    const existing = new Map(steps.map((step) => [step.key, step]));
    const rows = changes.steps.map((step) => {
      const before = existing.get(step.key);
      const terminal = (TERMINAL_STEP_STATUSES as readonly string[]).includes(step.status);
      const kept = <V>(value: V | undefined, old: V | null | undefined): V | null =>
        value !== undefined ? value : (old ?? null);
      return {
        id: before?.id ?? timeOrderedId('s'),
        key: step.key,
        step_id: before?.stepId ?? step.stepId,
        iteration: step.iteration,
        item: before ? before.item : step.item,
        status: step.status,
        task_id: kept(step.taskId, before?.taskId),
        attempt: step.attempt ?? before?.attempt ?? 1,
        output: kept(step.output, before?.output),
        error: kept(step.error, before?.error),
        due_at: kept(step.dueAt, before?.dueAt),
        decided_by: kept(step.decidedBy, before?.decidedBy),
        comment: kept(step.comment, before?.comment),
        // A step's first end stays its end (a retried step keeps it, as before).
        finished_at: before?.finishedAt ?? (terminal ? now : null),
      };
    });
    if (rows.length === 0 && !changes.run && !creation) return null;
    const { status, error, outputs, costUsd, cancelRequested } = changes.run ?? {};
    const terminal = status !== undefined && status !== 'RUNNING';
    const cancelRequestedAt = cancelRequested && !run.cancelRequestedAt ? now : run.cancelRequestedAt;
    const finishedAt = terminal && !run.finishedAt ? now : run.finishedAt;
    const set: Record<string, unknown> = {
      decisions: Prisma.sql`decisions + 1`,
      ...(status !== undefined ? { status } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(outputs !== undefined ? { outputs: Prisma.sql`${json(outputs)}::jsonb` } : {}),
      ...(costUsd !== undefined ? { cost_usd: costUsd } : {}),
      ...(cancelRequestedAt !== run.cancelRequestedAt ? { cancel_requested_at: cancelRequestedAt } : {}),
      ...(finishedAt !== run.finishedAt ? { finished_at: finishedAt } : {}),
      updated_at: now,
    };
    // The run's tasks as the decision saw them: which had ended (how) and what each cost. The
    // two sets must be equal (nothing in one that is not in the other).
    const tasksAsAssumed = tasksAssumed
      ? Prisma.sql`AND NOT EXISTS (
          (SELECT id, ended, cost FROM seen_tasks EXCEPT SELECT id, ended, cost FROM run_tasks)
          UNION ALL
          (SELECT id, ended, cost FROM run_tasks EXCEPT SELECT id, ended, cost FROM seen_tasks))`
      : Prisma.empty;
    const assumed = tasksAssumed
      ? Prisma.sql`seen_tasks AS (
          SELECT id, ended, cost FROM jsonb_to_recordset(${json(
            state.tasks.map((task) => ({
              id: task.id,
              ended: TASK_ENDED.includes(task.status) ? task.status : null,
              cost: task.costUsd,
            })),
          )}::jsonb) AS t(id text, ended text, cost float8)),
        run_tasks AS (
          SELECT id, CASE WHEN status::text IN (${Prisma.join(TASK_ENDED)}) THEN status::text END AS ended,
            cost_usd AS cost
          FROM tasks WHERE workflow_run_id = ${runId}),`
      : Prisma.empty;
    // The steps are written from the run's row the guarded UPDATE answered: none when it
    // answered none. (Two deciders' UPDATEs of the row take turns; the second sees the first's
    // count and matches nothing.)
    const stepWrites =
      rows.length === 0
        ? Prisma.sql`SELECT NULL::text AS key, NULL::timestamptz AS created_at WHERE false`
        : Prisma.sql`
        INSERT INTO workflow_steps (id, run_id, key, step_id, iteration, item, status, task_id, attempt,
          output, error, due_at, decided_by, comment, finished_at, updated_at)
        SELECT c.id, ${runId}, c.key, c.step_id, c.iteration, c.item, c.status, c.task_id, c.attempt,
          NULLIF(c.output, 'null'), c.error, c.due_at, c.decided_by, c.comment, c.finished_at, ${now}::timestamptz
        FROM run, jsonb_to_recordset(${json(rows)}::jsonb) AS c(id text, key text, step_id text,
          iteration int, item int, status text, task_id text, attempt int, output jsonb, error text,
          due_at timestamptz, decided_by text, comment text, finished_at timestamptz)
        ON CONFLICT (run_id, key) DO UPDATE SET iteration = EXCLUDED.iteration,
          status = EXCLUDED.status, task_id = EXCLUDED.task_id, attempt = EXCLUDED.attempt,
          output = EXCLUDED.output, error = EXCLUDED.error, due_at = EXCLUDED.due_at,
          decided_by = EXCLUDED.decided_by, comment = EXCLUDED.comment,
          finished_at = EXCLUDED.finished_at, updated_at = EXCLUDED.updated_at
        RETURNING key, created_at`;
    // One row, or with `creation` one per task it was given (the run's columns in each).
    // Committed without waiting for its WAL to reach the disk (synchronous_commit off for this
    // transaction alone; a flush is most of a commit's time while runners write): it is visible
    // at once, and anything durable built on it waits for it, since PostgreSQL flushes its WAL in
    // order — a runner's claim of a task it created is a commit that flushes this one first. A
    // crash of PostgreSQL within the next few hundred ms may lose the decision and its tasks
    // (never a task a runner took): their queue jobs then find no task, and the reconciler
    // decides again on what is durable, the step's task end included (docs/workflows.md).
    const answered = await this.sql.query<
      {
        decision: number;
        runStatus: WorkflowRun['status'];
        runError: string | null;
        runOutputs: Record<string, string> | null;
        runCostUsd: number;
        stepsCreated: Record<string, string>;
      } & ChosenRow
    >(Prisma.sql`
      WITH ${assumed} run AS (
        UPDATE workflow_runs SET ${assignments(set)}
        WHERE id = ${runId} AND decisions = ${run.decisions} ${tasksAsAssumed}
        RETURNING decisions, status, error, outputs, cost_usd),
      steps AS (${stepWrites})
      ${creation ? Prisma.sql`, ${creation.with}` : Prisma.empty}
      SELECT set_config('synchronous_commit', 'off', true) AS "asyncCommit", r.decisions AS decision,
        r.status AS "runStatus", r.error AS "runError",
        r.outputs AS "runOutputs", r.cost_usd AS "runCostUsd",
        (SELECT coalesce(json_object_agg(key, created_at), '{}'::json) FROM steps) AS "stepsCreated"
        ${creation ? Prisma.sql`, chosen.*` : Prisma.empty}
      FROM run r ${creation ? Prisma.sql`LEFT JOIN (${creation.select}) chosen ON true` : Prisma.empty}`);
    const [first] = answered;
    if (!first) return 'superseded';
    const written = {
      decision: first.decision,
      status: first.runStatus,
      error: first.runError,
      outputs: first.runOutputs,
      costUsd: first.runCostUsd,
      created: first.stepsCreated,
    };
    const created = creation?.read(answered);
    const types = stepTypes(definition);
    const stepRows: StepRow[] = rows.map((row) => ({
      id: row.id,
      runId,
      key: row.key,
      stepId: row.step_id,
      iteration: row.iteration,
      item: row.item,
      status: row.status,
      taskId: row.task_id,
      attempt: row.attempt,
      output: row.output ?? null,
      error: row.error,
      dueAt: row.due_at,
      decidedBy: row.decided_by,
      comment: row.comment,
      createdAt: existing.get(row.key)?.createdAt ?? new Date(written.created[row.key]!),
      finishedAt: row.finished_at,
      updatedAt: now,
    }));
    const changed = new Map(stepRows.map((row) => [row.key, row]));
    // The tasks it created are the run's now: the next decision on what is known counts them.
    const had = new Set(state.tasks.map((task) => task.id));
    const added: StepTask[] = (created?.created ?? [])
      .filter((task) => !had.has(task.id))
      .map((task) => ({
        id: task.id,
        status: task.status,
        result: null,
        costUsd: null,
        error: null,
        check: null,
      }));
    return {
      created,
      told: {
        decision: written.decision,
        steps: stepRows.map((row) => toStepRun(row, types.get(row.stepId) ?? 'agent')),
        run: {
          status: written.status,
          error: written.error,
          outputs: written.outputs,
          costUsd: written.costUsd,
        },
      },
      state: {
        ...state,
        row: {
          ...run,
          decisions: written.decision,
          status: written.status,
          error: written.error,
          outputs: written.outputs,
          costUsd: written.costUsd,
          cancelRequestedAt,
          finishedAt,
          updatedAt: now,
        },
        tasks: [...state.tasks, ...added],
        // In the order a read answers them (by creation, then key): new steps come last.
        steps: [
          ...steps.map((step) => changed.get(step.key) ?? step),
          ...stepRows.filter((row) => !existing.has(row.key)).sort((a, b) => a.key.localeCompare(b.key)),
        ],
      },
    };
  }

  // Runs the engine has not finished, for the reconciler.
  async unfinishedRunIds(): Promise<string[]> {
    const rows = await this.prisma.workflowRun.findMany({
      where: { status: 'RUNNING' },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((row) => row.id);
  }

  // Finished runs that still have tasks that have not ended (a cancel in flight), so the
  // reconciler can cancel them again.
  async finishedRunsWithLiveTasks(): Promise<string[]> {
    const rows = await this.prisma.task.findMany({
      where: {
        status: { in: ['QUEUED', 'RUNNING'] },
        workflowRun: { status: { not: 'RUNNING' } },
      },
      select: { workflowRunId: true },
      distinct: ['workflowRunId'],
    });
    return rows.flatMap((row) => (row.workflowRunId ? [row.workflowRunId] : []));
  }
}

// The known run with one of its tasks as its job told it (its end).
function withTask(known: KnownRun, task: StepTask): KnownRun {
  const others = known.tasks.filter((candidate) => candidate.id !== task.id);
  return { ...known, tasks: [...others, task] };
}
