import {
  TaskNotFound,
  type ListTasksQuery,
  type RoutingStrategy,
  type Runner,
  type TaskCheck,
  type TaskCheckResult,
  TaskSandboxSchema,
  type TaskPriority,
  type Task,
  type TaskPage,
  type TaskStatus,
  type TaskUsage,
  type TraceContext,
} from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Sql } from '../sql';
import type { NewAuditEntry } from './audit.repository';
import { keysetAfter, keysetPage } from './keyset-cursor';
import { taskRelations, toTask } from './task.mapper';

export const DEFAULT_PROJECT_ID = 'default';
export const DEFAULT_PROFILE = 'default';

// Who started a task or a workflow run (docs/governance.md): the user, and the API token when
// one was used (its maker is the user). Budgets of a user and of a token count their tasks.
export interface Submitter {
  userId: string | null;
  tokenId: string | null;
}

export interface NewTask {
  projectId: string;
  prompt: string;
  profile?: string;
  scenario?: string;
  timeoutSeconds?: number;
  priority?: TaskPriority;
  retryOf?: string;
  repository?: string;
  ref?: string;
  push?: boolean;
  conversationId?: string;
  // Set by the workflow engine for a step's task; the id is chosen before the task exists.
  id?: string;
  outputSchema?: Record<string, unknown>;
  // A command run in its workspace after its agent completed (a workflow step's check).
  check?: TaskCheck;
  workspaceOf?: string;
  workflowRunId?: string;
  workflowStep?: string;
  // Delegation: a child carries its parent's tree (docs/delegation.md).
  parentTaskId?: string;
  rootTaskId?: string;
  depth?: number;
  // Routing: labels its runner must offer; the strategy (a workflow's), when not the project's.
  requires?: string[];
  routing?: RoutingStrategy;
  // None for a webhook's task; a workflow step's task is its run's, a delegated child its parent's.
  submitter?: Submitter;
  // The audit entry of the request that creates it, written by the creation's own statement (one
  // commit for both), and only when the task is created.
  audit?: NewAuditEntry;
  // The trace of the request that creates it (tasks.trace).
  trace?: TraceContext;
}

export interface RunOutcome {
  status: Extract<TaskStatus, 'COMPLETED' | 'FAILED' | 'CANCELLED'>;
  result?: string | null;
  costUsd?: number | null;
  usage?: TaskUsage | null;
  numTurns?: number | null;
  durationMs?: number | null;
  agentSessionId?: string | null;
  exitCode?: number | null;
  error?: string | null;
  checkResult?: TaskCheckResult | null;
}

// What the kubernetes executor reads to make, and to reconcile, a task's Job.
export interface TaskJobState {
  id: string;
  projectId: string;
  status: TaskStatus;
  attempts: number;
  runnerId: string | null;
  cancelRequestedAt: Date | null;
  timeoutSeconds: number;
  conversationId: string | null;
}

// What a task is: reads only. Its state changes through @hangar/platform's TaskLifecycle.
export class TaskRepository {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // Only tasks of `projectIds` (the projects the caller may see, narrowed by `query.project`
  // by the caller).
  async list(query: ListTasksQuery, projectIds: readonly string[]): Promise<TaskPage> {
    const statuses = query.status === undefined ? undefined : ([] as TaskStatus[]).concat(query.status);
    const rows = await this.prisma.task.findMany({
      where: {
        AND: [
          { projectId: { in: [...projectIds] } },
          statuses ? { status: { in: statuses } } : {},
          query.profile ? { profile: { name: query.profile } } : {},
          query.q ? { prompt: { contains: query.q, mode: 'insensitive' as const } } : {},
          query.conversationId ? { conversationId: query.conversationId } : {},
          query.createdAfter ? { createdAt: { gte: new Date(query.createdAfter) } } : {},
          query.createdBefore ? { createdAt: { lt: new Date(query.createdBefore) } } : {},
          keysetAfter('createdAt', query.cursor),
        ],
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      include: taskRelations,
    });
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => row.createdAt);
    return { items: page.map(toTask), nextCursor };
  }

  // How many of a project's tasks wait and run now (the project topic carries these).
  // Told with every status change (TaskActivity): a node-postgres statement (../sql.ts).
  async activeCounts(projectSlug: string): Promise<{ queued: number; running: number }> {
    const [counts] = await this.sql.query<{ queued: number; running: number }>(Prisma.sql`
      SELECT COALESCE(sum(c.queued), 0)::int AS queued, COALESCE(sum(c.running), 0)::int AS running
      FROM project_task_counts c JOIN projects p ON p.id = c.project_id
      WHERE p.slug = ${projectSlug}`);
    return counts!;
  }

  // The same over every project of `projectIds` (GET /api/v1/runners).
  async activeCountsIn(projectIds: readonly string[]): Promise<{ queued: number; running: number }> {
    const [counts] = await this.sql.query<{ queued: number; running: number }>(Prisma.sql`
      SELECT COALESCE(sum(queued), 0)::int AS queued, COALESCE(sum(running), 0)::int AS running
      FROM project_task_counts WHERE project_id = ANY(${[...projectIds]})`);
    return counts!;
  }

  // The runners holding RUNNING tasks of `projectIds`, as their heartbeats on those tasks tell:
  // tasks of other projects are neither listed nor counted in a runner's last heartbeat.
  async runnersIn(projectIds: readonly string[]): Promise<Runner[]> {
    const rows = await this.prisma.task.findMany({
      where: { status: 'RUNNING', runnerId: { not: null }, projectId: { in: [...projectIds] } },
      orderBy: [{ runnerId: 'asc' }, { startedAt: 'asc' }, { id: 'asc' }],
      select: {
        id: true,
        runnerId: true,
        heartbeatAt: true,
        sandbox: true,
        project: { select: { slug: true } },
      },
    });
    const runners = new Map<
      string,
      { lastHeartbeatAt: Date | null; running: Runner['running']; sandbox: Runner['sandbox'] }
    >();
    for (const row of rows) {
      const runner = runners.get(row.runnerId!) ?? { lastHeartbeatAt: null, running: [], sandbox: null };
      runner.sandbox ??= TaskSandboxSchema.nullable().catch(null).parse(row.sandbox);
      if (row.heartbeatAt && (!runner.lastHeartbeatAt || row.heartbeatAt > runner.lastHeartbeatAt))
        runner.lastHeartbeatAt = row.heartbeatAt;
      runner.running.push({ id: row.id, project: row.project.slug });
      runners.set(row.runnerId!, runner);
    }
    return [...runners].map(([id, runner]) => ({
      id,
      lastHeartbeatAt: runner.lastHeartbeatAt?.toISOString() ?? null,
      running: runner.running,
      sandbox: runner.sandbox,
    }));
  }

  // Which of `ids` are tasks of `projectIds` (queue jobs name their task, not its project).
  async idsWithin(ids: readonly string[], projectIds: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.task.findMany({
      where: { id: { in: [...ids] }, projectId: { in: [...projectIds] } },
      select: { id: true },
    });
    return rows.map((row) => row.id);
  }

  // Services acting on their own work (scheduler, runner) see every task.
  async find(id: string): Promise<Task | null> {
    const row = await this.prisma.task.findUnique({ where: { id }, include: taskRelations });
    return row ? toTask(row) : null;
  }

  async get(id: string): Promise<Task> {
    const task = await this.find(id);
    if (!task) throw new TaskNotFound(id);
    return task;
  }

  // A task with its project's id (the delegation policy starts children in it).
  async findWithProject(id: string): Promise<(Task & { projectId: string }) | null> {
    const row = await this.prisma.task.findUnique({ where: { id }, include: taskRelations });
    return row ? { ...toTask(row), projectId: row.projectId } : null;
  }

  // The tasks a task's agent started, oldest first.
  async children(parentTaskId: string): Promise<Task[]> {
    const rows = await this.prisma.task.findMany({
      where: { parentTaskId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: taskRelations,
    });
    return rows.map(toTask);
  }

  // Finished tasks with a child task or workflow run still unfinished (the reconciler's pass:
  // the parent's end should have cancelled them).
  async finishedParentsWithLiveChildren(limit = 100): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT DISTINCT p.id FROM tasks p
      WHERE p.status IN ('COMPLETED', 'FAILED', 'CANCELLED')
        AND (EXISTS (SELECT 1 FROM tasks c
                     WHERE c.parent_task_id = p.id AND c.status IN ('QUEUED', 'RUNNING')
                       AND c.cancel_requested_at IS NULL)
          OR EXISTS (SELECT 1 FROM workflow_runs r
                     WHERE r.parent_task_id = p.id AND r.status = 'RUNNING' AND r.cancel_requested_at IS NULL))
      LIMIT ${limit}`;
    return rows.map((row) => row.id);
  }

  // A task's child tasks and workflow runs that have not ended (its end cancels them), in one
  // statement: it runs at every task's end, and most tasks have none.
  async liveChildren(parentTaskId: string): Promise<{ taskIds: string[]; runIds: string[] }> {
    // (node-postgres, ../sql.ts: every task's end asks it.)
    const rows = await this.sql.query<{ id: string; kind: 'task' | 'run' }>(Prisma.sql`
      SELECT id, 'task' AS kind FROM tasks
        WHERE parent_task_id = ${parentTaskId} AND status IN ('QUEUED', 'RUNNING')
      UNION ALL
      SELECT id, 'run' AS kind FROM workflow_runs
        WHERE parent_task_id = ${parentTaskId} AND status = 'RUNNING'`);
    return {
      taskIds: rows.filter((row) => row.kind === 'task').map((row) => row.id),
      runIds: rows.filter((row) => row.kind === 'run').map((row) => row.id),
    };
  }

  // Every task of a delegation tree (its root's id), the root included.
  async tree(rootTaskId: string): Promise<Task[]> {
    const rows = await this.prisma.task.findMany({
      where: { OR: [{ id: rootTaskId }, { rootTaskId }] },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: taskRelations,
    });
    return rows.map(toTask);
  }

  // What a caller may see: a task outside `projectIds` does not exist for it.
  async getVisible(id: string, projectIds: readonly string[]): Promise<Task & { projectId: string }> {
    const row = await this.prisma.task.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
      include: taskRelations,
    });
    if (!row) throw new TaskNotFound(id);
    return { ...toTask(row), projectId: row.projectId };
  }

  // The project of a task the caller can see (to authorize following it): one statement, not
  // the task with its names (three).
  async visibleProjectId(id: string, projectIds: readonly string[]): Promise<string> {
    // (node-postgres, ../sql.ts: every subscription to a task's topic asks it.)
    const [row] = await this.sql.query<{ projectId: string }>(Prisma.sql`
      SELECT project_id AS "projectId" FROM tasks WHERE id = ${id} AND project_id = ANY(${[...projectIds]}::text[])`);
    if (!row) throw new TaskNotFound(id);
    return row.projectId;
  }

  async jobStates(ids: readonly string[]): Promise<TaskJobState[]> {
    if (ids.length === 0) return [];
    return this.prisma.task.findMany({
      where: { id: { in: [...ids] } },
      select: {
        id: true,
        projectId: true,
        status: true,
        attempts: true,
        runnerId: true,
        cancelRequestedAt: true,
        timeoutSeconds: true,
        conversationId: true,
      },
    });
  }

  // The workspaces (task ids) that queued or running tasks are to work in (workspaceOf): the
  // runners' sweepers keep them.
  async awaitedWorkspaces(): Promise<string[]> {
    const rows = await this.prisma.task.findMany({
      where: { status: { in: ['QUEUED', 'RUNNING'] }, workspaceOf: { not: null } },
      select: { workspaceOf: true },
      distinct: ['workspaceOf'],
    });
    return rows.flatMap((row) => (row.workspaceOf ? [row.workspaceOf] : []));
  }

  async listStaleRunning(
    heartbeatBefore: Date,
    limit = 100,
  ): Promise<{ id: string; runnerId: string | null; attempts: number; heartbeatAt: Date | null }[]> {
    return this.prisma.task.findMany({
      where: { status: 'RUNNING', OR: [{ heartbeatAt: { lt: heartbeatBefore } }, { heartbeatAt: null }] },
      take: limit,
      select: { id: true, runnerId: true, attempts: true, heartbeatAt: true },
    });
  }
}
