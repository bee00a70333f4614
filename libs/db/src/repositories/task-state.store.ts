import {
  HangarError,
  InvalidTransition,
  TaskNotFound,
  type Task,
  type TaskSandbox,
  type TaskStatus,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { TaskStateMachine } from '../task-state-machine';
import { lockAndCountChildren } from './children-lock';
import { taskRelations, toTask } from './task.mapper';
import { DEFAULT_PROFILE, type NewTask, type RunOutcome } from './task.repository';

export type ChildCreation =
  { kind: 'created'; task: Task } | { kind: 'exists'; task: Task } | { kind: 'limit'; count: number };

// The writes to a task's state. Only @hangar/platform's TaskLifecycle uses them (it tells
// everyone of each change); everything else reads through TaskRepository. Reached as
// `@hangar/db/task-state`, an import eslint allows nowhere else.
export class TaskStateStore {
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
        data: this.row(input, profile),
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

  // Tasks whose ids were chosen before (a workflow decision's steps), in one statement: those
  // that exist already are left as they are. Answers the ones it created, and the inputs whose
  // profile does not exist (created not).
  async createChosen(
    inputs: (NewTask & { id: string })[],
  ): Promise<{ created: Task[]; unknownProfile: (NewTask & { id: string })[] }> {
    if (inputs.length === 0) return { created: [], unknownProfile: [] };
    const wanted = inputs.map((input) => ({
      projectId: input.projectId,
      name: input.profile ?? DEFAULT_PROFILE,
    }));
    const profiles = await this.prisma.agentProfile.findMany({ where: { OR: wanted } });
    const byName = new Map(profiles.map((profile) => [`${profile.projectId}/${profile.name}`, profile]));
    const rows: Prisma.TaskCreateManyInput[] = [];
    const unknownProfile: (NewTask & { id: string })[] = [];
    for (const input of inputs) {
      const profile = byName.get(`${input.projectId}/${input.profile ?? DEFAULT_PROFILE}`);
      if (profile) rows.push(this.row(input, profile));
      else unknownProfile.push(input);
    }
    const created = await this.prisma.task.createManyAndReturn({
      data: rows,
      skipDuplicates: true,
      include: taskRelations,
    });
    return { created: created.map(toTask), unknownProfile };
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
      const row = await tx.task.create({ data: this.row(input, profile), include: taskRelations });
      return { kind: 'created', task: toTask(row) } as const;
    });
  }

  private row(input: NewTask, profile: { id: string; timeoutSeconds: number | null }) {
    return {
      projectId: input.projectId,
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
      ...(input.id ? { id: input.id } : {}),
      ...(input.outputSchema ? { outputSchema: input.outputSchema as Prisma.InputJsonObject } : {}),
      workspaceOf: input.workspaceOf ?? null,
      workflowRunId: input.workflowRunId ?? null,
      workflowStep: input.workflowStep ?? null,
      parentTaskId: input.parentTaskId ?? null,
      // A root's is its own id (the insert trigger).
      rootTaskId: input.rootTaskId ?? null,
      depth: input.depth ?? 0,
      requires: input.requires ?? [],
      routing: input.routing ?? null,
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

  private async get(id: string): Promise<Task> {
    const row = await this.prisma.task.findUnique({ where: { id }, include: taskRelations });
    if (!row) throw new TaskNotFound(id);
    return toTask(row);
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
