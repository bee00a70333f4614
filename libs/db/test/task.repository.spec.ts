import { InvalidTransition, TaskNotFound, WorkflowDefinitionSchema, type TaskEvent } from '@hangar/contracts';
import {
  createPrismaClient,
  migrate,
  TaskEventRepository,
  TaskRepository,
  WorkflowRepository,
  WorkflowRunRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { DEFAULT_PROJECT_ID } from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

// The writes (TaskStateStore) and what TaskRepository reads of them.
describe(TaskStateStore.name, () => {
  const { url, name } = freshDatabaseUrl('task_repo');
  let prisma: PrismaClient;
  let tasks: TaskStateStore;
  let reads: TaskRepository;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    tasks = new TaskStateStore(prisma, { timeoutSeconds: 321 });
    reads = new TaskRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should record a new task QUEUED on the default profile with the default timeout', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'hello', scenario: 'reply' });
    expect(task).toMatchObject({
      status: 'QUEUED',
      profile: 'default',
      scenario: 'reply',
      timeoutSeconds: 321,
      attempts: 0,
      lastSeq: 0,
      usage: null,
    });
  });

  it('should refuse an unknown profile and create nothing', async () => {
    const before = await prisma.task.count();
    await expect(
      tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'x', profile: 'ghost' }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_PROFILE',
    });
    expect(await prisma.task.count()).toBe(before);
  });

  it('should create tasks asked for at once each with its own answer, an unknown profile refusing only its own', async () => {
    const before = await prisma.task.count();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, index) =>
        tasks.createCounted({
          projectId: DEFAULT_PROJECT_ID,
          prompt: `at once ${index}`,
          ...(index === 5 ? { profile: 'ghost' } : {}),
        }),
      ),
    );
    expect(outcomes[5]).toMatchObject({ status: 'rejected', reason: { code: 'UNKNOWN_PROFILE' } });
    const created = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    expect(created.map(({ task }) => task.prompt)).toEqual(
      Array.from({ length: 12 }, (_, index) => `at once ${index}`).filter((_, index) => index !== 5),
    );
    expect(new Set(created.map(({ task }) => task.id)).size).toBe(11);
    expect(await prisma.task.count()).toBe(before + 11);
    // Each answer's counts include its own task and every task created before it.
    const queued = await prisma.task.count({ where: { status: 'QUEUED' } });
    for (const [index, { counts }] of created.entries()) {
      expect(counts.queued).toBeGreaterThanOrEqual(queued - 11 + index + 1);
      expect(counts.queued).toBeLessThanOrEqual(queued);
    }
  });

  it("should write the creating request's audit entry with the task, and none for a task not created", async () => {
    const audit = (id: string) => ({
      projectId: DEFAULT_PROJECT_ID,
      actor: { type: 'token' as const, id: 'token-1', label: 'token "ci"' },
      action: 'task.create',
      target: { type: 'task', id },
      ip: '10.1.2.3',
      userAgent: 'hangar-cli',
      traceId: null,
      details: {},
    });
    const outcomes = await Promise.allSettled([
      tasks.createCounted({
        id: 'caudited1',
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'a',
        audit: audit('caudited1'),
      }),
      tasks.createCounted({
        id: 'caudited2',
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'b',
        profile: 'ghost',
        audit: audit('caudited2'),
      }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected']);
    const entries = await prisma.auditEntry.findMany({
      where: { targetId: { in: ['caudited1', 'caudited2'] } },
    });
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'task.create',
        projectId: DEFAULT_PROJECT_ID,
        actorType: 'token',
        actorLabel: 'token "ci"',
        targetType: 'task',
        targetId: 'caudited1',
        ip: '10.1.2.3',
        userAgent: 'hangar-cli',
      }),
    ]);
  });

  it('should let exactly one of two runners claim a task', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'race' });
    const claims = await Promise.all([
      tasks.claim(task.id, 'r1', '/w', 1),
      tasks.claim(task.id, 'r2', '/w', 1),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const claimed = claims.find(Boolean)!;
    expect(claimed).toMatchObject({ status: 'RUNNING', attempts: 1, workspace: '/w' });
  });

  it('should ignore a stale job for an older attempt', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'attempts' });
    expect(await tasks.claim(task.id, 'r1', '/w', 1)).not.toBeNull();
    expect(await tasks.requeue(task.id, 'r1', 'runner-lost: test')).toMatchObject({
      status: 'QUEUED',
      attempts: 1,
    });
    expect(await tasks.claim(task.id, 'r2', '/w', 1)).toBeNull();
    expect(await tasks.claim(task.id, 'r2', '/w', 2)).toMatchObject({ status: 'RUNNING', attempts: 2 });
  });

  it('should store the outcome only from the runner that holds the task', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'finish' });
    await tasks.claim(task.id, 'r1', '/w', 1);
    expect(await tasks.finish(task.id, 'other', { status: 'COMPLETED' })).toBeNull();
    const done = await tasks.finish(task.id, 'r1', {
      status: 'COMPLETED',
      result: 'ok',
      costUsd: 0.25,
      usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheCreationTokens: 4 },
      numTurns: 2,
      durationMs: 99,
      agentSessionId: 's-1',
      exitCode: 0,
    });
    expect(done).toMatchObject({
      status: 'COMPLETED',
      result: 'ok',
      costUsd: 0.25,
      usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheCreationTokens: 4 },
      agentSessionId: 's-1',
    });
    expect(done?.finishedAt).not.toBeNull();
  });

  it('should record the workspace only of the runner that runs the task, while it runs', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'workspace' });
    const place = { dir: '/w/there', branch: 'hangar/x', baseCommit: 'abc123' };
    await tasks.recordWorkspace(task.id, 'r1', place);
    expect(await reads.get(task.id)).toMatchObject({ workspace: null, branch: null });
    await tasks.claim(task.id, 'r1', '/w', 1);
    await tasks.recordWorkspace(task.id, 'other', { ...place, dir: '/w/elsewhere' });
    await tasks.recordWorkspace(task.id, 'r1', place);
    expect(await reads.get(task.id)).toMatchObject({
      workspace: '/w/there',
      branch: 'hangar/x',
      baseCommit: 'abc123',
    });
    await tasks.recordWorkspace(task.id, 'r1', { dir: '/w/made', branch: null, baseCommit: null });
    expect(await reads.get(task.id)).toMatchObject({ workspace: '/w/made', branch: null, baseCommit: null });
  });

  it('should cancel a queued task once and refuse to finish a terminal one', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'cancel me' });
    expect(await tasks.cancelQueued(task.id)).toMatchObject({ status: 'CANCELLED' });
    expect(await tasks.cancelQueued(task.id)).toBeNull();
    await expect(tasks.finish('missing', 'r1', { status: 'FAILED' })).rejects.toBeInstanceOf(TaskNotFound);
    await expect(tasks.cancelQueued('missing')).rejects.toBeInstanceOf(TaskNotFound);
  });

  it('should report cancel requests and lost tasks to their runner on heartbeat', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'beat' });
    await tasks.claim(task.id, 'r1', '/w', 1);
    expect(await tasks.heartbeat('r1', [task.id])).toEqual([]);
    expect(await tasks.requestCancel(task.id)).toMatchObject({ status: 'RUNNING' });
    expect(await tasks.requestCancel(task.id)).toBeNull();
    expect(await tasks.heartbeat('r1', [task.id])).toEqual([task.id]);
  });

  it('should list RUNNING tasks whose heartbeat is older than the limit', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'stale' });
    await tasks.claim(task.id, 'r9', '/w', 1);
    const future = new Date(Date.now() + 60_000);
    expect((await reads.listStaleRunning(future)).map((row) => row.id)).toContain(task.id);
    expect((await reads.listStaleRunning(new Date(Date.now() - 60_000))).map((row) => row.id)).not.toContain(
      task.id,
    );
    expect(await tasks.failLost(task.id, 'r9', 'runner-lost: gone')).toMatchObject({
      status: 'FAILED',
      error: 'runner-lost: gone',
    });
  });

  it("should record who started a task: a workflow step's is its run's starter's, a delegated child its parent's", async () => {
    const submitter = { userId: 'user-1', tokenId: 'token-1' };
    const parent = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'parent', submitter });
    const stored = (id: string) =>
      prisma.task.findUniqueOrThrow({ where: { id }, select: { userId: true, tokenId: true } });
    expect(await stored(parent.id)).toEqual(submitter);
    // A webhook's task: no one.
    const hooked = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'from a webhook' });
    expect(await stored(hooked.id)).toEqual({ userId: null, tokenId: null });

    const child = await tasks.createChild(
      { id: 'child-of-parent', projectId: DEFAULT_PROJECT_ID, prompt: 'child', parentTaskId: parent.id },
      5,
    );
    expect(child.kind).toBe('created');
    expect(await stored('child-of-parent')).toEqual(submitter);

    const workflow = await new WorkflowRepository(prisma).create(
      DEFAULT_PROJECT_ID,
      WorkflowDefinitionSchema.parse({ name: 'wf', steps: [{ id: 'a', prompt: 'x' }] }),
      'test',
    );
    const runId = await new WorkflowRunRepository(prisma).create({
      workflowId: workflow.id,
      version: 1,
      projectId: DEFAULT_PROJECT_ID,
      inputs: {},
      deadlineAt: null,
      createdBy: 'test',
      submitter: { userId: 'user-2', tokenId: null },
    });
    const created = await tasks.createChosen([
      {
        id: 'step-task',
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'step',
        workflowRunId: runId,
        workflowStep: 'a',
      },
    ]);
    expect(created.created).toHaveLength(1);
    expect(await stored('step-task')).toEqual({ userId: 'user-2', tokenId: null });
  });

  it("should list a task's children still queued or running, and its workflow runs still running", async () => {
    const parent = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'delegates' });
    expect(await reads.liveChildren(parent.id)).toEqual({ taskIds: [], runIds: [] });
    for (const id of ['live-queued', 'live-running', 'live-done'])
      await tasks.createChild({ id, projectId: DEFAULT_PROJECT_ID, prompt: id, parentTaskId: parent.id }, 5);
    await tasks.claim('live-running', 'r1', '/w', 1);
    await tasks.claim('live-done', 'r1', '/w', 1);
    await tasks.finish('live-done', 'r1', { status: 'COMPLETED' });
    const live = await reads.liveChildren(parent.id);
    expect(live.taskIds.sort()).toEqual(['live-queued', 'live-running']);
    expect(live.runIds).toEqual([]);
    // Another task's children are not its.
    expect(await reads.liveChildren('live-queued')).toEqual({ taskIds: [], runIds: [] });
  });

  it('should show a task only to whoever sees its project', async () => {
    await prisma.project.create({ data: { id: 'proj-hidden', slug: 'hidden', name: 'Hidden' } });
    await prisma.agentProfile.create({ data: { projectId: 'proj-hidden', name: 'default' } });
    const task = await tasks.create({ projectId: 'proj-hidden', prompt: 'seen' });
    expect(await reads.visibleProjectId(task.id, [DEFAULT_PROJECT_ID, 'proj-hidden'])).toBe('proj-hidden');
    for (const [id, projects] of [
      [task.id, [DEFAULT_PROJECT_ID]],
      [task.id, []],
      ['no-such-task', ['proj-hidden']],
    ] as const)
      await expect(reads.visibleProjectId(id, projects)).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
  });

  it('should reject a transition the state machine does not allow', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'guard' });
    // requeue guards on RUNNING; a QUEUED task does not match and nothing changes.
    expect(await tasks.requeue(task.id, 'r1', 'x')).toBeNull();
    expect(new InvalidTransition(task.id, 'COMPLETED', 'RUNNING').code).toBe('INVALID_TRANSITION');
  });
});

describe(TaskEventRepository.name, () => {
  const { url, name } = freshDatabaseUrl('task_events');
  let prisma: PrismaClient;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should keep one copy of each event when a batch is written twice, and track lastSeq', async () => {
    const events = new TaskEventRepository(prisma);
    const tasks = new TaskStateStore(prisma);
    const reads = new TaskRepository(prisma);
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'events' });
    const at = new Date().toISOString();
    const batch: TaskEvent[] = [1, 2, 3].map((seq) => ({
      taskId: task.id,
      seq,
      at,
      type: 'assistant.text',
      data: { text: `t${seq}` },
    }));
    await events.insertBatch(batch);
    await events.insertBatch(batch);
    expect(await events.listAfter(task.id, 0)).toEqual(batch);
    expect(await events.listAfter(task.id, 2)).toEqual(batch.slice(2));
    expect((await reads.get(task.id)).lastSeq).toBe(3);
  });
});
