import {
  HangarError,
  InvalidTransition,
  TaskNotFound,
  type ListTasksQuery,
  type Runner,
  TaskSandboxSchema,
  type TaskPriority,
  type TaskSandbox,
  type Task,
  type TaskPage,
  type TaskStatus,
  type TaskUsage,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { TaskStateMachine } from '../task-state-machine';
import { keysetAfter, keysetPage } from './keyset-cursor';
import { taskRelations, toTask } from './task.mapper';

export const DEFAULT_PROJECT_ID = 'default';
export const DEFAULT_PROFILE = 'default';

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

export class TaskRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly defaults: { timeoutSeconds: number } = { timeoutSeconds: 600 },
  ) {}

  async create(input: NewTask): Promise<Task> {
    const projectId = input.projectId;
    const profileName = input.profile ?? DEFAULT_PROFILE;
    const profile = await this.prisma.agentProfile.findUnique({
      where: { projectId_name: { projectId, name: profileName } },
    });
    if (!profile)
      throw new HangarError('UNKNOWN_PROFILE', `profile "${profileName}" does not exist`, {
        profile: profileName,
      });
    const row = await this.prisma.task
      .create({
        data: {
          projectId,
          profileId: profile.id,
          prompt: input.prompt,
          scenario: input.scenario ?? null,
          timeoutSeconds: input.timeoutSeconds ?? profile.timeoutSeconds ?? this.defaults.timeoutSeconds,
          repository: input.repository ?? null,
          repositoryRef: input.ref ?? null,
          push: input.push ?? false,
          priority: input.priority ?? 'normal',
          retryOfId: input.retryOf ?? null,
          conversationId: input.conversationId ?? null,
        },
        include: taskRelations,
      })
      .catch((error: unknown) => {
        // tasks_conversation_id_active_key: the conversation's previous turn has not finished.
        if (input.conversationId && isUniqueViolation(error)) {
          throw new HangarError(
            'CONVERSATION_BUSY',
            `conversation ${input.conversationId} has a turn that has not finished; wait for it or cancel it`,
            { conversationId: input.conversationId },
          );
        }
        throw error;
      });
    return toTask(row);
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
  async activeCounts(projectSlug: string): Promise<{ queued: number; running: number }> {
    return this.countActive({ project: { slug: projectSlug } });
  }

  // The same over every project of `projectIds` (GET /api/v1/runners).
  async activeCountsIn(projectIds: readonly string[]): Promise<{ queued: number; running: number }> {
    return this.countActive({ projectId: { in: [...projectIds] } });
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

  private async countActive(where: Prisma.TaskWhereInput): Promise<{ queued: number; running: number }> {
    const groups = await this.prisma.task.groupBy({
      by: ['status'],
      where: { ...where, status: { in: ['QUEUED', 'RUNNING'] } },
      _count: { _all: true },
    });
    const count = (status: TaskStatus) => groups.find((group) => group.status === status)?._count._all ?? 0;
    return { queued: count('QUEUED'), running: count('RUNNING') };
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

  // What a caller may see: a task outside `projectIds` does not exist for it.
  async getVisible(id: string, projectIds: readonly string[]): Promise<Task & { projectId: string }> {
    const row = await this.prisma.task.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
      include: taskRelations,
    });
    if (!row) throw new TaskNotFound(id);
    return { ...toTask(row), projectId: row.projectId };
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
        attempts: { increment: 1 },
        runnerId,
        workspace,
        sandbox,
        startedAt: now,
        heartbeatAt: now,
        cancelRequestedAt: null,
        error: null,
      },
      guard,
    );
  }

  // Only the runner that holds the task may finish it, so a runner presumed lost cannot
  // overwrite the outcome of the retry that replaced it.
  async finish(id: string, runnerId: string, outcome: RunOutcome): Promise<Task | null> {
    return this.tryTransition(
      id,
      outcome.status,
      {
        finishedAt: new Date(),
        result: outcome.result ?? null,
        costUsd: outcome.costUsd ?? null,
        inputTokens: outcome.usage?.inputTokens ?? null,
        outputTokens: outcome.usage?.outputTokens ?? null,
        cacheReadTokens: outcome.usage?.cacheReadTokens ?? null,
        cacheCreationTokens: outcome.usage?.cacheCreationTokens ?? null,
        numTurns: outcome.numTurns ?? null,
        durationMs: outcome.durationMs ?? null,
        agentSessionId: outcome.agentSessionId ?? null,
        exitCode: outcome.exitCode ?? null,
        error: outcome.error ?? null,
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
    await this.prisma.task.updateMany({
      where: { id, runnerId, status: 'RUNNING' },
      data: { workspace: workspace.dir, branch: workspace.branch, baseCommit: workspace.baseCommit },
    });
  }

  async markPushed(id: string): Promise<void> {
    await this.prisma.task.update({ where: { id }, data: { pushedAt: new Date() } });
  }

  async cancelQueued(id: string): Promise<Task | null> {
    return this.tryTransition(
      id,
      'CANCELLED',
      { finishedAt: new Date(), error: 'cancelled: before it started' },
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
      { runnerId: null, heartbeatAt: null, error: reason },
      { status: 'RUNNING', runnerId },
    );
  }

  async failLost(id: string, runnerId: string, reason: string): Promise<Task | null> {
    return this.tryTransition(
      id,
      'FAILED',
      { finishedAt: new Date(), error: reason },
      { status: 'RUNNING', runnerId },
    );
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

  // An attempt that never started (its Job's pod could not be scheduled or pulled): the task
  // fails as it waits, guarded on the attempt so a later attempt is never touched.
  async failUnstarted(id: string, attempt: number, reason: string): Promise<Task | null> {
    return this.tryTransition(
      id,
      'FAILED',
      { finishedAt: new Date(), error: reason },
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

  async listQueued(limit = 500): Promise<{ id: string; attempts: number; priority: TaskPriority }[]> {
    const rows = await this.prisma.task.findMany({
      where: { status: 'QUEUED' },
      orderBy: { createdAt: 'asc' },
      take: limit,
      select: { id: true, attempts: true, priority: true },
    });
    return rows.map((row) => ({ ...row, priority: row.priority as TaskPriority }));
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

  private async tryTransition(
    id: string,
    to: TaskStatus,
    data: Prisma.TaskUpdateManyMutationInput,
    guard: { status?: TaskStatus; runnerId?: string; attempts?: number } = {},
  ): Promise<Task | null> {
    const sources = guard.status ? [guard.status] : TaskStateMachine.sourcesOf(to);
    if (guard.status && !TaskStateMachine.canTransition(guard.status, to))
      throw new InvalidTransition(id, guard.status, to);
    const { count } = await this.prisma.task.updateMany({
      where: {
        id,
        status: { in: sources },
        ...(guard.runnerId !== undefined ? { runnerId: guard.runnerId } : {}),
        ...(guard.attempts !== undefined ? { attempts: guard.attempts } : {}),
      },
      data: { ...data, status: to },
    });
    if (count === 1) return this.get(id);
    await this.get(id); // TaskNotFound when it does not exist at all
    return null;
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
