import { randomUUID } from 'node:crypto';
import { WorkflowDefinitionSchema, type Task } from '@hangar/contracts';
import {
  ApprovalRepository,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  TaskEventRepository,
  TaskRepository,
  WorkflowRepository,
  WorkflowRunRepository,
  type PrismaClient,
} from '@hangar/db';
import {
  createRedis,
  MetricRecordStream,
  Queues,
  TaskEventStream,
  TopicStreams,
  WORKFLOW_QUEUE_SPEC,
} from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { TaskStateStore } from '@hangar/db/task-state';
import { TaskActivity, TaskLifecycle } from '../src';

// The one owner of a task's state, over the real PostgreSQL and Redis: each change is guarded,
// then told in the task's own events and on its project's topic — and a refused change is told
// nowhere.
describe(TaskLifecycle.name, () => {
  const prefix = uniqueRedisPrefix('lifecycle');
  const redis = createRedis(redisUrl());
  const stream = new TaskEventStream(redis, { prefix });
  const topics = new TopicStreams(redis, stream, { prefix });
  const queues = new Queues({ url: redisUrl(), prefix });
  const records = new MetricRecordStream(redis, { prefix });
  let database: TestDatabase;
  let prisma: PrismaClient;
  let tasks: TaskRepository;
  let events: TaskEventRepository;
  let lifecycle: TaskLifecycle;

  beforeAll(async () => {
    database = await createTestDatabase('lifecycle');
    prisma = createPrismaClient(database.url);
    tasks = new TaskRepository(prisma);
    events = new TaskEventRepository(prisma);
    lifecycle = new TaskLifecycle(
      new TaskStateStore(prisma),
      tasks,
      stream,
      events,
      new ApprovalRepository(prisma),
      new TaskActivity(topics, tasks),
      { TASK_MAX_ATTEMPTS: 2, STREAM_RETENTION_SECONDS: 90 },
      queues,
      records,
    );
  });

  afterAll(async () => {
    await queues.onApplicationShutdown();
    await prisma.$disconnect();
    await redis.quit();
    await database.drop();
  });

  // The task's own status events, as live subscribers and the history both get them.
  async function statuses(taskId: string) {
    const live = (await stream.readAfter(taskId, 0))
      .filter((event) => event.type === 'task.status')
      .map((event) => event.data);
    const stored = (await events.listAfter(taskId, 0))
      .filter((event) => event.type === 'task.status')
      .map((event) => event.data);
    expect(stored).toEqual(live);
    return live;
  }

  async function projectStatuses(taskId: string) {
    return (await topics.readAfter(`project:${DEFAULT_PROJECT_ID}`, 0))
      .filter((entry) => (entry.data as { taskId?: string }).taskId === taskId)
      .map((entry) => entry.data as { status: string; counts: { queued: number; running: number } });
  }

  const running = async (prompt: string, runnerId = 'runner-a'): Promise<Task> => {
    const task = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt });
    return (await lifecycle.claim(task.id, 1, runnerId, { workspace: '/w', sandbox: 'bwrap' }))!.task;
  };

  it('should run what the caller records before telling anyone of a new task', async () => {
    const seen: string[] = [];
    const task = await lifecycle.create(
      { projectId: DEFAULT_PROJECT_ID, prompt: 'new' },
      async (recorded) => {
        seen.push(`recorded ${recorded.status}`);
        expect(await projectStatuses(recorded.id)).toEqual([]);
      },
    );
    expect(seen).toEqual(['recorded QUEUED']);
    expect(await projectStatuses(task.id)).toEqual([
      expect.objectContaining({
        status: 'QUEUED',
        counts: expect.objectContaining({ queued: expect.any(Number) }),
      }),
    ]);
  });

  it('should create chosen tasks once, admitted when asked, telling the project its counts with them', async () => {
    const before = await tasks.activeCounts('default');
    const ids = [randomUUID(), randomUUID()];
    const inputs = ids.map((id) => ({
      id,
      projectId: DEFAULT_PROJECT_ID,
      prompt: 'chosen',
      requires: ['gpu'],
    }));
    const missing = { id: randomUUID(), projectId: DEFAULT_PROJECT_ID, prompt: 'chosen', profile: 'nobody' };
    const first = await lifecycle.createChosen([...inputs, missing], { admitted: true });
    expect(first.created.map((task) => [task.id, task.status, task.profile])).toEqual(
      ids.map((id) => [id, 'QUEUED', 'default']),
    );
    expect(first.unknownProfile).toEqual([missing]);
    // Admitted, with what routing needs of them.
    expect(first.admitted).toEqual(
      ids.map((id) => ({
        id,
        attempts: 0,
        priority: 'normal',
        projectId: DEFAULT_PROJECT_ID,
        profileId: 'default',
        provider: 'claude',
        requires: ['gpu'],
        strategy: null,
        scope: `project:${DEFAULT_PROJECT_ID}`,
        pool: null,
        workspaceOf: null,
        workspaceRunner: null,
        // Made without a request's trace.
        trace: null,
      })),
    );
    const stored = await prisma.task.findMany({ where: { id: { in: ids } }, select: { admittedAt: true } });
    expect(stored.every((row) => row.admittedAt !== null)).toBe(true);
    // Told with the project's counts after them, as counting them now gives.
    const counts = { queued: before.queued + 2, running: before.running };
    for (const id of ids)
      expect(await projectStatuses(id)).toEqual([{ taskId: id, status: 'QUEUED', counts }]);
    expect(await tasks.activeCounts('default')).toEqual(counts);
    // Asked again (a decision carried out twice): nothing is created or told again.
    const again = await lifecycle.createChosen(inputs, { admitted: true });
    expect(again.created).toEqual([]);
    expect(again.admitted).toEqual([]);
    expect(await projectStatuses(ids[0]!)).toHaveLength(1);
  });

  it('should let one runner claim an attempt, telling RUNNING once, and refuse the same attempt again', async () => {
    const task = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'claim' });
    const claimed = await lifecycle.claim(task.id, 1, 'runner-a', { workspace: '/w', sandbox: 'bwrap' });
    expect(claimed?.task).toMatchObject({ status: 'RUNNING', attempts: 1, sandbox: 'bwrap' });
    // The attempt's log goes on after its RUNNING, in the same sequence.
    await claimed!.log.append([{ type: 'assistant.text', data: { text: 'started' } }]);
    await claimed!.log.flush();
    expect((await stream.readAfter(task.id, 0)).map((event) => [event.seq, event.type])).toEqual([
      [1, 'task.status'],
      [2, 'assistant.text'],
    ]);
    expect(await lifecycle.claim(task.id, 1, 'runner-b', { workspace: '/w', sandbox: 'bwrap' })).toBeNull();
    expect(await statuses(task.id)).toEqual([{ status: 'RUNNING' }]);
    expect((await projectStatuses(task.id)).map((entry) => entry.status)).toEqual(['QUEUED', 'RUNNING']);
  });

  it("should keep the outcome of the runner that holds the task, drop another's, and keep the stream a while", async () => {
    const task = await running('finish');
    expect(await lifecycle.finish(task.id, 'runner-stale', { status: 'FAILED', error: 'late' })).toBeNull();
    const done = await lifecycle.finish(task.id, 'runner-a', { status: 'COMPLETED', result: 'ok' });
    expect(done).toMatchObject({ status: 'COMPLETED', result: 'ok', error: null });
    expect(await statuses(task.id)).toEqual([{ status: 'RUNNING' }, { status: 'COMPLETED' }]);
    const ttl = await redis.ttl(stream.key(task.id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(90);
  });

  it('should retry a lost attempt while attempts remain, then fail, saying which attempt it was', async () => {
    const task = await running('lost');
    const lost = { reason: 'runner-lost', message: 'runner runner-a sent no heartbeat for 30s', retry: true };
    const requeued = await lifecycle.attemptLost(task, 'runner-a', lost);
    expect(requeued).toMatchObject({
      status: 'QUEUED',
      error: 'runner-lost: runner runner-a sent no heartbeat for 30s (attempt 1 of 2)',
    });
    // Told once: a second reconciler finding the same lost attempt changes nothing.
    expect(await lifecycle.attemptLost(task, 'runner-a', lost)).toBeNull();
    const second = await lifecycle.claim(task.id, 2, 'runner-b', { workspace: '/w', sandbox: 'bwrap' });
    const failed = await lifecycle.attemptLost(second!.task, 'runner-b', { ...lost, message: 'gone' });
    expect(failed).toMatchObject({ status: 'FAILED', error: 'runner-lost: gone (attempt 2 of 2)' });
    expect(await statuses(task.id)).toEqual([
      { status: 'RUNNING' },
      { status: 'QUEUED', reason: requeued!.error },
      { status: 'RUNNING' },
      { status: 'FAILED', reason: failed!.error },
    ]);
  });

  it('should fail at once a lost attempt no retry could help, with attempts left', async () => {
    const task = await running('refused');
    const failed = await lifecycle.attemptLost(task, 'runner-a', {
      reason: 'job-deleted',
      message: 'the Job was deleted before its task finished',
      retry: false,
    });
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 1 });
  });

  it('should fail an attempt that never started, and not a later one', async () => {
    const task = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'unstarted' });
    expect(await lifecycle.failUnstarted(task.id, 2, 'image-pull: no such image')).toBeNull();
    expect(await lifecycle.failUnstarted(task.id, 1, 'image-pull: no such image')).toMatchObject({
      status: 'FAILED',
      error: 'image-pull: no such image',
    });
    expect(await statuses(task.id)).toEqual([{ status: 'FAILED', reason: 'image-pull: no such image' }]);
  });

  it('should cancel a queued task at once, ask a running one to stop, and leave a finished one be', async () => {
    const queued = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'cancel queued' });
    expect(await lifecycle.cancel(queued.id)).toMatchObject({
      kind: 'cancelled',
      task: { status: 'CANCELLED' },
    });
    expect(await statuses(queued.id)).toEqual([
      { status: 'CANCELLED', reason: 'cancelled before it started' },
    ]);

    const task = await running('cancel running');
    expect(await lifecycle.cancel(task.id)).toMatchObject({ kind: 'requested', task: { status: 'RUNNING' } });
    expect(await lifecycle.heartbeat('runner-a', [task.id])).toEqual([task.id]);
    // Asked, not done: the runner finishes it as CANCELLED.
    expect(await statuses(task.id)).toEqual([{ status: 'RUNNING' }]);

    expect(await lifecycle.cancel(queued.id)).toMatchObject({
      kind: 'finished',
      task: { status: 'CANCELLED' },
    });
    expect(await lifecycle.cancel('t_doesnotexist')).toEqual({ kind: 'not-found' });
  });

  it('should send the metrics service one record per ending, as the task ended, and none for a retry', async () => {
    const sent = async (taskId: string) =>
      (await redis.xrange(records.key, '-', '+'))
        .map(([, fields]) => JSON.parse(fields[1] ?? '{}') as { taskId: string })
        .filter((record) => record.taskId === taskId);
    const task = await running('measured');
    await lifecycle.attemptLost(task, 'runner-a', { reason: 'runner-lost', message: 'gone', retry: true });
    expect(await sent(task.id)).toEqual([]);
    await lifecycle.claim(task.id, 2, 'runner-b', { workspace: '/w', sandbox: 'bwrap' });
    const finished = await lifecycle.finish(task.id, 'runner-b', {
      status: 'FAILED',
      error: 'timeout: no result within 60s; the agent was stopped',
      costUsd: 0.25,
      usage: { inputTokens: 10, outputTokens: 20, cacheReadTokens: 30, cacheCreationTokens: 40 },
      numTurns: 3,
    });
    // A second report of the same ending changes nothing, and sends nothing.
    expect(await lifecycle.finish(task.id, 'runner-b', { status: 'COMPLETED' })).toBeNull();
    expect(await sent(task.id)).toEqual([
      {
        kind: 'task.ended',
        taskId: task.id,
        project: 'default',
        profile: 'default',
        status: 'FAILED',
        reason: 'timeout',
        attempts: 2,
        createdAt: task.createdAt,
        startedAt: finished!.startedAt,
        finishedAt: finished!.finishedAt,
        costUsd: 0.25,
        inputTokens: 10,
        outputTokens: 20,
        cacheReadTokens: 30,
        cacheCreationTokens: 40,
        numTurns: 3,
      },
    ]);
  });

  // Delegation trees: a child is created once for its chosen id and within its parent's
  // fan-out, even when asked for at the same instant; any end of a parent cancels its unfinished
  // children, and theirs, and asks the engine to cancel its workflow runs.
  describe('delegation', () => {
    const claim = async (task: Task, runnerId = 'runner-a'): Promise<Task> =>
      (await lifecycle.claim(task.id, 1, runnerId, { workspace: '/w', sandbox: 'bwrap' }))!.task;

    const child = (parent: Task, prompt: string, id = randomUUID()) => ({
      id,
      projectId: DEFAULT_PROJECT_ID,
      prompt,
      parentTaskId: parent.id,
      rootTaskId: parent.rootTaskId,
      depth: parent.depth + 1,
    });

    it("should make a root its own tree's id", async () => {
      const root = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'root' });
      expect(root).toMatchObject({ parentTaskId: null, rootTaskId: root.id, depth: 0 });
    });

    it('should create a child once for its chosen id, in its parent’s tree', async () => {
      const parent = await claim(await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'parent' }));
      const input = child(parent, 'once');
      const first = await lifecycle.createChild(input, 5);
      const again = await lifecycle.createChild(input, 5);
      expect(first).toMatchObject({
        kind: 'created',
        task: { id: input.id, parentTaskId: parent.id, rootTaskId: parent.id, depth: 1, status: 'QUEUED' },
      });
      expect(again).toMatchObject({ kind: 'exists', task: { id: input.id } });
      expect(await tasks.children(parent.id)).toHaveLength(1);
    });

    it('should hold the fan-out limit when children are asked for at the same instant', async () => {
      const parent = await claim(
        await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'fan-out' }),
      );
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, index) => lifecycle.createChild(child(parent, `child ${index}`), 3)),
      );
      expect(outcomes.filter((outcome) => outcome.kind === 'created')).toHaveLength(3);
      expect(outcomes.filter((outcome) => outcome.kind === 'limit')).toHaveLength(3);
      expect(await tasks.children(parent.id)).toHaveLength(3);
    });

    // A run of a one-step workflow, as a child of `parent`.
    async function childRun(parent: Task, maxChildren: number) {
      const workflows = new WorkflowRepository(prisma);
      const name = `wf-${randomUUID().slice(0, 8)}`;
      const workflow = await workflows.create(
        DEFAULT_PROJECT_ID,
        WorkflowDefinitionSchema.parse({ name, steps: [{ id: 'one', prompt: 'go' }] }),
        'test',
      );
      return new WorkflowRunRepository(prisma).createChild(
        {
          id: randomUUID(),
          parentTaskId: parent.id,
          workflowId: workflow.id,
          version: workflow.version,
          projectId: DEFAULT_PROJECT_ID,
          inputs: {},
          deadlineAt: null,
          createdBy: `task:${parent.id}`,
        },
        maxChildren,
      );
    }

    it('should count workflow runs and tasks together against the fan-out limit', async () => {
      const parent = await claim(await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'mixed' }));
      expect(await childRun(parent, 2)).toMatchObject({ kind: 'created' });
      expect(await lifecycle.createChild(child(parent, 'task'), 2)).toMatchObject({ kind: 'created' });
      expect(await childRun(parent, 2)).toEqual({ kind: 'limit', count: 2 });
      expect(await lifecycle.createChild(child(parent, 'one more'), 2)).toEqual({ kind: 'limit', count: 2 });
    });

    it("should ask the engine to cancel a parent's running workflow runs when the parent ends", async () => {
      const parent = await claim(await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'runs' }));
      const run = await childRun(parent, 5);
      if (run.kind !== 'created') throw new Error(`run not created: ${run.kind}`);
      await lifecycle.finish(parent.id, 'runner-a', { status: 'COMPLETED' });
      const job = await queues.producer(WORKFLOW_QUEUE_SPEC).getJob(`cancel-${run.id}-parent-ended`);
      expect(job?.data).toEqual({ kind: 'cancel', runId: run.id, by: `task:${parent.id}` });
    });

    it.each(['COMPLETED', 'FAILED', 'CANCELLED'] as const)(
      'should cancel the unfinished children (and theirs) of a parent that ended %s',
      async (ending) => {
        const parent = await claim(await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: ending }));
        const created = async (input: ReturnType<typeof child>) => {
          const outcome = await lifecycle.createChild(input, 5);
          if (outcome.kind !== 'created') throw new Error(`child not created: ${outcome.kind}`);
          return outcome.task;
        };
        const queued = await created(child(parent, 'queued'));
        const grandchild = await created(child(queued, 'grandchild'));
        const running = await claim(await created(child(parent, 'running')), 'runner-b');
        const done = await claim(await created(child(parent, 'done')), 'runner-c');
        await lifecycle.finish(done.id, 'runner-c', { status: 'COMPLETED', result: 'ok' });

        await lifecycle.finish(parent.id, 'runner-a', { status: ending });

        expect((await tasks.get(queued.id)).status).toBe('CANCELLED');
        expect((await tasks.get(grandchild.id)).status).toBe('CANCELLED');
        expect((await tasks.get(done.id)).status).toBe('COMPLETED');
        // A running child is asked to stop: its runner hears it on its next heartbeat.
        expect(await lifecycle.heartbeat('runner-b', [running.id])).toEqual([running.id]);
      },
    );
  });
});
