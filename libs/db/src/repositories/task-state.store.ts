import {
  HangarError,
  InvalidTransition,
  TaskNotFound,
  type Task,
  type TaskSandbox,
  type TaskStatus,
  type TraceContext,
} from '@hangar/contracts';
import { Prisma, type PrismaClient, type Task as TaskRow } from '../generated/prisma/client';
import { TaskStateMachine } from '../task-state-machine';
import { lockAndCountChildren, parentSubmitter } from './children-lock';
import { sqlOf } from '../client';
import { assignments, json, type Sql } from '../sql';
import { newTaskId } from '../task-id';
import { StatementBatcher } from '../statement-batcher';
import { AUDIT_RECORD, auditColumns, auditRow } from './audit.repository';
import { routingExtras, type AdmittedTask } from './task-admission.store';
import { TASK_COLUMNS, taskFromSql, taskRelations, toTask } from './task.mapper';
import { DEFAULT_PROFILE, type NewTask, type RunOutcome } from './task.repository';

export interface ChosenCreation {
  created: Task[];
  unknownProfile: (NewTask & { id: string })[];
  // The created tasks, admitted, with what routing needs (when asked to admit them).
  admitted: AdmittedTask[];
  // By project (its slug): its active tasks, the created ones with them.
  counts: Map<string, { queued: number; running: number }>;
}

export interface CountedTask {
  task: Task;
  // Its project's active tasks, this one among them.
  counts: { queued: number; running: number };
}

// A row of createChosen's statement (one per input).
export type ChosenRow = TaskRow &
  Omit<AdmittedTask, keyof TaskRow> & {
    profileName: string;
    projectSlug: string;
    inputId: string;
    inputOrd: number;
    profileKnown: boolean;
    projectQueued: number;
    projectRunning: number;
  };

// A relation of a caller's statement (by its name there) without which no task is created.
export interface ChosenGate {
  relation: string;
}

export interface ChosenStatement {
  with: Prisma.Sql;
  select: Prisma.Sql;
  read(rows: ChosenRow[]): ChosenCreation;
}

export type ChildCreation =
  { kind: 'created'; task: Task } | { kind: 'exists'; task: Task } | { kind: 'limit'; count: number };

// The writes to a task's state. Only @hangar/platform's TaskLifecycle uses them (it tells
// everyone of each change); everything else reads through TaskRepository. Reached as
// `@hangar/db/task-state`, an import eslint allows nowhere else.
export class TaskStateStore {
  // State changes are on every task's path (a step's end to its next task): node-postgres
  // statements (../sql.ts), each change one UPDATE … RETURNING.
  private readonly sql: Sql;
  private readonly creations = new StatementBatcher<NewTask & { id: string }, CountedTask>((inputs) =>
    this.createBatch(inputs),
  );

  constructor(
    private readonly prisma: PrismaClient,
    private readonly defaults: { timeoutSeconds: number } = { timeoutSeconds: 600 },
  ) {
    this.sql = sqlOf(prisma);
  }

  async create(input: NewTask): Promise<Task> {
    return (await this.createCounted(input)).task;
  }

  // A new task and its project's counts of active tasks with it, in one statement (createChosen's:
  // a task accepted from the API is one round trip, not a profile lookup and a transaction).
  // Tasks created at once (concurrent requests) share that statement (../statement-batcher.ts): the
  // counts each answers are its project's with every task of the statement.
  async createCounted(input: NewTask): Promise<CountedTask> {
    try {
      return await this.creations.submit({ ...input, id: input.id ?? newTaskId() });
    } catch (error) {
      // tasks_conversation_id_active_key: the conversation's previous turn has not finished.
      if (input.conversationId && isUniqueViolation(error))
        throw new HangarError(
          'CONVERSATION_BUSY',
          `conversation ${input.conversationId} has a turn that has not finished; wait for it or cancel it`,
          { conversationId: input.conversationId },
        );
      throw error;
    }
  }

  private async createBatch(inputs: (NewTask & { id: string })[]): Promise<(CountedTask | Error)[]> {
    const outcome = await this.createChosen(inputs);
    const created = new Map(outcome.created.map((task) => [task.id, task]));
    const unknown = new Set(outcome.unknownProfile.map((input) => input.id));
    return inputs.map((input) => {
      if (unknown.has(input.id)) {
        const profile = input.profile ?? DEFAULT_PROFILE;
        return new HangarError('UNKNOWN_PROFILE', `profile "${profile}" does not exist`, { profile });
      }
      const task = created.get(input.id);
      if (!task) return new Error(`task ${input.id} exists already`);
      return { task, counts: outcome.counts.get(task.project) ?? { queued: 1, running: 0 } };
    });
  }

  // Tasks whose ids were chosen before (a workflow decision's steps), in one statement (a
  // step's end waits on it): those that exist already are left as they are. Answers the ones it
  // created, in the inputs' order, the inputs whose profile does not exist (created not), and
  // each project's counts of active tasks with them. `admitted` (the orchestrator's call: no cap
  // holds them back) creates them admitted, and answers them with what routing needs.
  async createChosen(
    inputs: (NewTask & { id: string })[],
    options: { admitted?: boolean } = {},
  ): Promise<ChosenCreation> {
    if (inputs.length === 0) return { created: [], unknownProfile: [], admitted: [], counts: new Map() };
    const statement = this.chosenStatement(inputs, options);
    return statement.read(await this.sql.query(Prisma.sql`WITH ${statement.with} ${statement.select}`));
  }

  // createChosen's statement in parts, for a caller that creates the tasks in a statement of its
  // own with its own write (the workflow engine: a decision and its steps' tasks, one commit):
  // `with` goes into its WITH list (it names input, known, t, chosen_audit and counts), `select`
  // answers one row per input (`inputOrd` orders them), and `read` makes the outcome of those rows. With
  // `gate` (a relation of the caller's statement, such as a guarded UPDATE's RETURNING),
  // nothing is created when the gate holds no row.
  chosenStatement(
    inputs: (NewTask & { id: string })[],
    options: { admitted?: boolean } = {},
    gate?: ChosenGate,
  ): ChosenStatement {
    const rows = inputs.map((input, ord) => ({
      ord,
      id: input.id,
      project_id: input.projectId,
      profile: input.profile ?? DEFAULT_PROFILE,
      timeout_seconds: input.timeoutSeconds ?? null,
      audit: input.audit ? auditRow(input.audit) : null,
      ...Object.fromEntries(
        Object.entries(inputValues(input)).map(([field, value]) => [
          field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
          value,
        ]),
      ),
    }));
    const gated = gate ? Prisma.sql`WHERE EXISTS (SELECT 1 FROM ${Prisma.raw(gate.relation)})` : Prisma.empty;
    const statement = Prisma.sql`
      input AS (
        SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS i(
          id text, project_id text, profile text, prompt text, scenario text, timeout_seconds int,
          repository text, repository_ref text, push boolean, priority text, retry_of_id text,
          conversation_id text, output_schema jsonb, "check" jsonb, workspace_of text, workflow_run_id text,
          workflow_step text, parent_task_id text, root_task_id text, depth int, requires jsonb,
          routing text, user_id text, token_id text, trace jsonb, audit jsonb, ord int)
      ), known AS (
        -- A step's task was started by whoever started its run.
        SELECT i.*, p.id AS profile_id, p.timeout_seconds AS profile_timeout, r.user_id AS run_user_id,
          r.token_id AS run_token_id
        FROM input i JOIN agent_profiles p ON p.project_id = i.project_id AND p.name = i.profile
          LEFT JOIN workflow_runs r ON r.id = i.workflow_run_id
      ), t AS (
        INSERT INTO tasks (id, project_id, profile_id, prompt, scenario, timeout_seconds, repository,
          repository_ref, push, priority, retry_of_id, conversation_id, output_schema, "check",
          workspace_of, workflow_run_id, workflow_step, parent_task_id, root_task_id, depth, requires,
          routing, user_id, token_id, trace, admitted_at, updated_at)
        SELECT id, project_id, profile_id, prompt, scenario,
          COALESCE(timeout_seconds, profile_timeout, ${this.defaults.timeoutSeconds}), repository,
          repository_ref, push, priority, retry_of_id, conversation_id, NULLIF(output_schema, 'null'),
          NULLIF("check", 'null'), workspace_of, workflow_run_id, workflow_step, parent_task_id, root_task_id, depth,
          ARRAY(SELECT jsonb_array_elements_text(requires)), routing, COALESCE(user_id, run_user_id),
          COALESCE(token_id, run_token_id), NULLIF(trace, 'null'),
          ${options.admitted ? Prisma.sql`now()` : null}, now()
        FROM known ${gated} ORDER BY ord
        ON CONFLICT (id) DO NOTHING
        RETURNING *
      ), chosen_audit AS (
        -- The creating request's entry, with the task it created (none for an input not created).
        INSERT INTO audit_log (${auditColumns()})
        SELECT ${auditColumns('a')}
        FROM t JOIN input ai ON ai.id = t.id, jsonb_to_record(ai.audit) AS a(${AUDIT_RECORD})
        WHERE ai.audit IS NOT NULL
      ), counts AS (
        SELECT project_id, sum(queued)::int AS queued, sum(running)::int AS running
        FROM project_task_counts WHERE project_id IN (SELECT project_id FROM input)
        GROUP BY project_id
      )`;
    const select = Prisma.sql`
      SELECT ${TASK_COLUMNS}, ${routingExtras('t')}, i.id AS "inputId", i.ord AS "inputOrd",
        EXISTS (SELECT 1 FROM known k WHERE k.id = i.id) AS "profileKnown",
        COALESCE(n.queued, 0) + (SELECT count(*) FROM t c WHERE c.project_id = i.project_id)::int
          AS "projectQueued",
        COALESCE(n.running, 0) AS "projectRunning"
      FROM input i LEFT JOIN t ON t.id = i.id LEFT JOIN counts n ON n.project_id = i.project_id
      ORDER BY i.ord`;
    // (The statement's own inserts are not in its snapshot, nor in the counts, which their trigger
    // changes when the statement ends: the project's QUEUED count adds them.)
    const read = (answered: ChosenRow[]): ChosenCreation => {
      const outcome: ChosenCreation = { created: [], unknownProfile: [], admitted: [], counts: new Map() };
      const unknown = new Set<string>();
      for (const row of [...answered].sort((a, b) => a.inputOrd - b.inputOrd)) {
        if (!row.profileKnown) unknown.add(row.inputId);
        if (row.id === null) continue;
        const task = taskFromSql(row);
        outcome.created.push(task);
        outcome.counts.set(task.project, { queued: row.projectQueued, running: row.projectRunning });
        if (options.admitted)
          outcome.admitted.push({
            id: task.id,
            attempts: task.attempts,
            priority: task.priority,
            projectId: row.projectId,
            profileId: row.profileId,
            provider: row.provider,
            requires: task.requires,
            strategy: row.strategy,
            scope: row.scope,
            pool: task.pool,
            workspaceOf: task.workspaceOf,
            workspaceRunner: row.workspaceRunner,
            trace: row.trace as TraceContext | null,
          });
      }
      outcome.unknownProfile = inputs.filter((input) => unknown.has(input.id));
      return outcome;
    };
    return { with: statement, select, read };
  }

  // A child task (delegation) whose id its parent's runner chose: created once however often it
  // is asked for, and refused once the parent has `maxChildren` children — counted under a lock
  // on the parent, so children asked for at the same instant cannot pass the limit together.
  async createChild(
    input: NewTask & { id: string; parentTaskId: string },
    maxChildren: number,
  ): Promise<ChildCreation> {
    const profileName = input.profile ?? DEFAULT_PROFILE;
    const profile = await this.prisma.agentProfile.findUnique({
      where: { projectId_name: { projectId: input.projectId, name: profileName } },
    });
    if (!profile)
      throw new HangarError('UNKNOWN_PROFILE', `profile "${profileName}" does not exist`, {
        profile: profileName,
      });
    return this.prisma.$transaction(async (tx) => {
      const count = await lockAndCountChildren(tx, input.parentTaskId);
      const existing = await tx.task.findUnique({ where: { id: input.id }, include: taskRelations });
      if (existing) {
        if (existing.parentTaskId !== input.parentTaskId)
          throw new HangarError('INVALID_TRANSITION', `task ${input.id} exists already`);
        return { kind: 'exists', task: toTask(existing) } as const;
      }
      if (count >= maxChildren) return { kind: 'limit', count } as const;
      const row = await tx.task.create({
        data: { ...this.row(input, profile), ...(await parentSubmitter(tx, input.parentTaskId)) },
        include: taskRelations,
      });
      return { kind: 'created', task: toTask(row) } as const;
    });
  }

  private row(input: NewTask, profile: { id: string; timeoutSeconds: number | null }) {
    const { outputSchema, check, trace, ...values } = inputValues(input);
    return {
      ...values,
      projectId: input.projectId,
      profileId: profile.id,
      timeoutSeconds: input.timeoutSeconds ?? profile.timeoutSeconds ?? this.defaults.timeoutSeconds,
      ...(input.id ? { id: input.id } : {}),
      ...(outputSchema ? { outputSchema: outputSchema as Prisma.InputJsonObject } : {}),
      ...(check ? { check } : {}),
      ...(trace ? { trace } : {}),
    };
  }

  // A runner takes a QUEUED task. Null when someone else took it or it was cancelled: the
  // queue job is then stale and is dropped.
  async claim(
    id: string,
    runnerId: string,
    workspace: string,
    attempt: number,
    sandbox: TaskSandbox | null = null,
  ): Promise<Task | null> {
    const now = new Date();
    const guard = { status: 'QUEUED' as const, attempts: attempt - 1 };
    return this.tryTransition(
      id,
      'RUNNING',
      {
        attempts: Prisma.sql`attempts + 1`,
        runner_id: runnerId,
        workspace,
        sandbox,
        started_at: now,
        heartbeat_at: now,
        cancel_requested_at: null,
        error: null,
        waiting_reason: null,
        waiting_until: null,
      },
      guard,
    );
  }

  // These QUEUED tasks wait for `reason` until `until` (docs/governance.md): answers those for
  // which that is news (they did not wait for it, or until another time).
  async markWaiting(ids: readonly string[], reason: 'provider-quota', until: Date): Promise<Task[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.query<TaskRow & { profileName: string; projectSlug: string }>(Prisma.sql`
      WITH t AS (
        UPDATE tasks SET waiting_reason = ${reason}, waiting_until = ${until}, updated_at = now()
        WHERE id = ANY(${[...ids]}) AND status = 'QUEUED'
          AND (waiting_reason IS DISTINCT FROM ${reason} OR waiting_until IS DISTINCT FROM ${until})
        RETURNING *
      )
      SELECT ${TASK_COLUMNS} FROM t`);
    return rows.map(taskFromSql);
  }

  // The running attempt's agent waits for a person to answer a tool call, until `until` (the
  // soonest deadline of its pending approvals; docs/governance.md).
  async markWaitingForApproval(id: string, attempt: number, until: Date): Promise<Task | null> {
    const [row] = await this.sql.query<TaskRow & { profileName: string; projectSlug: string }>(Prisma.sql`
      WITH t AS (
        UPDATE tasks SET waiting_reason = 'approval', updated_at = now(),
          waiting_until = CASE WHEN waiting_reason = 'approval' AND waiting_until < ${until}
                               THEN waiting_until ELSE ${until} END
        WHERE id = ${id} AND status = 'RUNNING' AND attempts = ${attempt}
        RETURNING *
      )
      SELECT ${TASK_COLUMNS} FROM t`);
    return row ? taskFromSql(row) : null;
  }

  // No approval of the task is pending any more: it waits for no one.
  async clearApprovalWaiting(id: string): Promise<void> {
    await this.sql.query(Prisma.sql`
      UPDATE tasks SET waiting_reason = NULL, waiting_until = NULL, updated_at = now()
      WHERE id = ${id} AND waiting_reason = 'approval'
        AND NOT EXISTS (SELECT 1 FROM approvals WHERE task_id = ${id} AND status = 'PENDING')`);
  }

  // Only the runner that holds the task may finish it, so a runner presumed lost cannot
  // overwrite the outcome of the retry that replaced it.
  async finish(id: string, runnerId: string, outcome: RunOutcome): Promise<Task | null> {
    return this.tryTransition(
      id,
      outcome.status,
      {
        finished_at: new Date(),
        result: outcome.result ?? null,
        cost_usd: outcome.costUsd ?? null,
        input_tokens: outcome.usage?.inputTokens ?? null,
        output_tokens: outcome.usage?.outputTokens ?? null,
        cache_read_tokens: outcome.usage?.cacheReadTokens ?? null,
        cache_creation_tokens: outcome.usage?.cacheCreationTokens ?? null,
        num_turns: outcome.numTurns ?? null,
        duration_ms: outcome.durationMs ?? null,
        agent_session_id: outcome.agentSessionId ?? null,
        exit_code: outcome.exitCode ?? null,
        error: outcome.error ?? null,
        check_result: outcome.checkResult ? Prisma.sql`${json(outcome.checkResult)}::jsonb` : null,
      },
      { status: 'RUNNING', runnerId },
    );
  }

  // Where the run works, once its workspace is ready (branch and base commit for a repository).
  async recordWorkspace(
    id: string,
    runnerId: string,
    workspace: { dir: string; branch: string | null; baseCommit: string | null },
  ) {
    // node-postgres (../sql.ts): a run's CLI starts once it is recorded.
    await this.sql.query(Prisma.sql`
      UPDATE tasks SET workspace = ${workspace.dir}, branch = ${workspace.branch},
        base_commit = ${workspace.baseCommit}, updated_at = now()
      WHERE id = ${id} AND runner_id = ${runnerId} AND status = 'RUNNING'`);
  }

  async markPushed(id: string): Promise<void> {
    await this.prisma.task.update({ where: { id }, data: { pushedAt: new Date() } });
  }

  async cancelQueued(id: string): Promise<Task | null> {
    return this.tryTransition(
      id,
      'CANCELLED',
      { finished_at: new Date(), error: 'cancelled: before it started' },
      { status: 'QUEUED' },
    );
  }

  // A running task is cancelled by its runner; this records the request it acts on.
  async requestCancel(id: string): Promise<Task | null> {
    const { count } = await this.prisma.task.updateMany({
      where: { id, status: 'RUNNING', cancelRequestedAt: null },
      data: { cancelRequestedAt: new Date() },
    });
    return count === 1 ? this.get(id) : null;
  }

  async requeue(id: string, runnerId: string, reason: string): Promise<Task | null> {
    return this.tryTransition(
      id,
      'QUEUED',
      { runner_id: null, heartbeat_at: null, error: reason },
      { status: 'RUNNING', runnerId },
    );
  }

  async failLost(id: string, runnerId: string, reason: string): Promise<Task | null> {
    return this.tryTransition(
      id,
      'FAILED',
      { finished_at: new Date(), error: reason },
      { status: 'RUNNING', runnerId },
    );
  }

  // An attempt that never started (its Job's pod could not be scheduled or pulled): the task
  // fails as it waits, guarded on the attempt so a later attempt is never touched.
  async failUnstarted(id: string, attempt: number, reason: string): Promise<Task | null> {
    return this.tryTransition(
      id,
      'FAILED',
      { finished_at: new Date(), error: reason },
      { status: 'QUEUED', attempts: attempt - 1 },
    );
  }

  // Refreshes the runner's liveness on its tasks; answers which of them must be cancelled.
  async heartbeat(runnerId: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    await this.prisma.task.updateMany({
      where: { id: { in: ids }, runnerId, status: 'RUNNING' },
      data: { heartbeatAt: new Date() },
    });
    const cancelled = await this.prisma.task.findMany({
      where: { id: { in: ids }, OR: [{ cancelRequestedAt: { not: null } }, { status: { not: 'RUNNING' } }] },
      select: { id: true },
    });
    return cancelled.map((row) => row.id);
  }

  // `set`: columns and values (a Prisma.Sql value is SQL, such as `attempts + 1`).
  private async tryTransition(
    id: string,
    to: TaskStatus,
    set: Record<string, unknown>,
    guard: { status?: TaskStatus; runnerId?: string; attempts?: number } = {},
  ): Promise<Task | null> {
    const sources = guard.status ? [guard.status] : TaskStateMachine.sourcesOf(to);
    if (guard.status && !TaskStateMachine.canTransition(guard.status, to))
      throw new InvalidTransition(id, guard.status, to);
    const [row] = await this.sql.query<TaskRow & { profileName: string; projectSlug: string }>(Prisma.sql`
      WITH t AS (
        UPDATE tasks SET ${assignments({ waiting_reason: null, waiting_until: null, ...set })},
          status = ${to}::task_status, updated_at = now()
        WHERE id = ${id} AND status::text = ANY(${sources}::text[])
          ${guard.runnerId !== undefined ? Prisma.sql`AND runner_id = ${guard.runnerId}` : Prisma.empty}
          ${guard.attempts !== undefined ? Prisma.sql`AND attempts = ${guard.attempts}` : Prisma.empty}
        RETURNING *
      )
      SELECT ${TASK_COLUMNS} FROM t`);
    if (row) return taskFromSql(row);
    await this.get(id); // TaskNotFound when it does not exist at all
    return null;
  }

  private async get(id: string): Promise<Task> {
    const row = await this.prisma.task.findUnique({ where: { id }, include: taskRelations });
    if (!row) throw new TaskNotFound(id);
    return toTask(row);
  }
}

// Prisma's unique violation, or node-postgres' (a statement of ours: 23505).
function isUniqueViolation(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === 'P2002';
  return error instanceof Error && (error as { code?: unknown }).code === '23505';
}

// A new task's own values (its columns, by their Prisma names) with their defaults: one list for
// both ways a task is created (Prisma's create, and createChosen's statement, which names the
// columns in snake_case). The profile and the timeout depend on the profile, found by each.
function inputValues(input: NewTask) {
  return {
    prompt: input.prompt,
    scenario: input.scenario ?? null,
    repository: input.repository ?? null,
    repositoryRef: input.ref ?? null,
    push: input.push ?? false,
    priority: input.priority ?? 'normal',
    retryOfId: input.retryOf ?? null,
    conversationId: input.conversationId ?? null,
    outputSchema: input.outputSchema ?? null,
    check: input.check ?? null,
    workspaceOf: input.workspaceOf ?? null,
    workflowRunId: input.workflowRunId ?? null,
    workflowStep: input.workflowStep ?? null,
    parentTaskId: input.parentTaskId ?? null,
    // A root's is its own id (the insert trigger).
    rootTaskId: input.rootTaskId ?? null,
    depth: input.depth ?? 0,
    requires: input.requires ?? [],
    routing: input.routing ?? null,
    userId: input.submitter?.userId ?? null,
    tokenId: input.submitter?.tokenId ?? null,
    trace: input.trace ?? null,
  };
}
