import {
  WorkflowDefinitionSchema,
  type DecisionTold,
  type RunChanges,
  type StepWrite,
  type WorkflowRunActivity as RunActivityEntry,
} from '@hangar/contracts';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  WorkflowRepository,
  WorkflowRunRepository,
  type PrismaClient,
} from '@hangar/db';
import { WorkflowRunStore } from '@hangar/db/workflow-state';
import { createRedis, TaskEventStream, TopicStreams } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { WorkflowRunActivity } from '../src';

// What a workflow run's topic tells, over the real PostgreSQL and Redis: each decision the
// engine stored, as GET shows the run after it, in the order the decisions were taken.
describe(WorkflowRunActivity.name, () => {
  const prefix = uniqueRedisPrefix('run-activity');
  const redis = createRedis(redisUrl());
  const topics = new TopicStreams(redis, new TaskEventStream(redis, { prefix }), { prefix });
  let database: TestDatabase;
  let prisma: PrismaClient;
  let workflows: WorkflowRepository;
  let runs: WorkflowRunRepository;
  let store: WorkflowRunStore;
  let activity: WorkflowRunActivity;

  beforeAll(async () => {
    database = await createTestDatabase('run_activity');
    prisma = createPrismaClient(database.url);
    workflows = new WorkflowRepository(prisma);
    runs = new WorkflowRunRepository(prisma);
    store = new WorkflowRunStore(prisma);
    activity = new WorkflowRunActivity(topics, runs, { TASK_MAX_ATTEMPTS: 2, STREAM_RETENTION_SECONDS: 90 });
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await redis.quit();
    await database.drop();
  });

  let names = 0;
  async function startRun(): Promise<string> {
    const definition = WorkflowDefinitionSchema.parse({
      name: `wf-${++names}`,
      steps: [
        { id: 'a', prompt: 'a' },
        { id: 'b', needs: ['a'], prompt: 'b' },
      ],
    });
    const workflow = await workflows.create(DEFAULT_PROJECT_ID, definition, 'test');
    return runs.create({
      workflowId: workflow.id,
      version: 1,
      projectId: DEFAULT_PROJECT_ID,
      inputs: {},
      deadlineAt: null,
      createdBy: 'test',
    });
  }

  const write = (key: string, change: Partial<StepWrite>): StepWrite => ({
    key,
    stepId: key,
    iteration: null,
    item: null,
    status: 'RUNNING',
    ...change,
  });

  // Stores a decision as the engine does (its run locked), answering what it wrote and what the
  // engine tells of it.
  async function stored(runId: string, changes: RunChanges): Promise<[RunChanges, DecisionTold?]> {
    const outcome = (await store.advance(runId, () => changes))!;
    return [outcome.changes, outcome.told];
  }

  const told = async (runId: string) =>
    (await topics.readAfter(`workflow-run:${runId}`, 0)).map(({ seq, type, data }) => ({
      seq,
      ...({ type, data } as RunActivityEntry),
    }));

  it('should tell each step written as GET shows it, then the run when its status or cost changed', async () => {
    const runId = await startRun();
    await activity.decided(runId, ...(await stored(runId, { steps: [write('a', { taskId: 't-a' })] })));
    await activity.decided(
      runId,
      ...(await stored(runId, {
        steps: [write('a', { status: 'COMPLETED', output: 'done' }), write('b', { taskId: 't-b' })],
        run: { costUsd: 0.25 },
      })),
    );
    await activity.decided(
      runId,
      ...(await stored(runId, {
        steps: [write('b', { status: 'COMPLETED', output: 'done too' })],
        run: { status: 'COMPLETED', outputs: { answer: 'done too' }, costUsd: 0.5 },
      })),
    );

    const run = await runs.getVisible(runId, [DEFAULT_PROJECT_ID]);
    const events = await told(runId);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(
      events.map((event) =>
        event.type === 'step.status' ? [event.data.key, event.data.status] : ['run', event.data.status],
      ),
    ).toEqual([
      ['a', 'RUNNING'],
      ['a', 'COMPLETED'],
      ['b', 'RUNNING'],
      ['run', 'RUNNING'],
      ['b', 'COMPLETED'],
      ['run', 'COMPLETED'],
    ]);
    expect(events[0]).toMatchObject({ type: 'step.status', data: { taskId: 't-a', finishedAt: null } });
    expect(events[3]).toMatchObject({
      type: 'run.status',
      data: { status: 'RUNNING', error: null, outputs: null, costUsd: 0.25 },
    });
    // The last word on each step is the step as GET shows it.
    expect(events[1]!.data).toEqual(run.steps[0]);
    expect(events[4]!.data).toEqual(run.steps[1]);
    expect(events[5]!.data).toEqual({
      status: 'COMPLETED',
      error: null,
      outputs: { answer: 'done too' },
      costUsd: 0.5,
    });
  });

  it('should tell nothing of a decision that changed nothing', async () => {
    const runId = await startRun();
    await activity.decided(runId, ...(await stored(runId, { steps: [] })));
    await activity.decided(runId, ...(await stored(runId, { steps: [], run: { cancelRequested: true } })));
    expect(await told(runId)).toEqual([]);
  });

  it('should keep a finished run’s stream for the retention only, like a finished task’s', async () => {
    const runId = await startRun();
    await activity.decided(runId, ...(await stored(runId, { steps: [write('a', {})] })));
    expect(await redis.ttl(topics.key(`workflow-run:${runId}`))).toBe(-1);
    await activity.decided(
      runId,
      ...(await stored(runId, {
        steps: [write('a', { status: 'CANCELLED' })],
        run: { status: 'CANCELLED', error: 'cancelled: by test', cancelRequested: true },
      })),
    );
    const ttl = await redis.ttl(topics.key(`workflow-run:${runId}`));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(90);
  });

  it('should tell a decision told after a later one as the run is now, ending with the run', async () => {
    const runId = await startRun();
    await activity.decided(runId, ...(await stored(runId, { steps: [write('a', {}), write('b', {})] })));
    // Two decisions stored one after the other; the first is told last.
    const first = await stored(runId, { steps: [write('a', { status: 'COMPLETED' })], run: { costUsd: 1 } });
    const second = await stored(runId, {
      steps: [write('a', { status: 'COMPLETED', output: 'late' }), write('b', { status: 'COMPLETED' })],
      run: { status: 'COMPLETED', outputs: {}, costUsd: 2 },
    });
    await activity.decided(runId, ...second);
    await activity.decided(runId, ...first);

    const events = (await told(runId)).slice(2);
    expect(events.map((event) => [event.type, event.data.status])).toEqual([
      ['step.status', 'COMPLETED'],
      ['step.status', 'COMPLETED'],
      ['run.status', 'COMPLETED'],
      ['step.status', 'COMPLETED'],
      ['run.status', 'COMPLETED'],
    ]);
    // Never the state in between (a's output unset, the run RUNNING at $1).
    expect(events[3]!.data).toMatchObject({ key: 'a', output: 'late' });
    expect(events[4]!.data).toMatchObject({ costUsd: 2 });
  });

  it('should tell a decision without what it wrote as the run is now', async () => {
    const runId = await startRun();
    await activity.decided(runId, ...(await stored(runId, { steps: [write('a', {})] })));
    const [changes] = await stored(runId, { steps: [write('a', { status: 'COMPLETED', output: 'done' })] });
    await activity.decided(runId, changes);
    const run = await runs.getVisible(runId, [DEFAULT_PROJECT_ID]);
    expect((await told(runId)).map((event) => event.data)).toEqual([
      expect.objectContaining({ key: 'a', status: 'RUNNING' }),
      run.steps[0],
    ]);
  });

  it('should tell a stored decision as the engine wrote it, reading nothing back', async () => {
    const runId = await startRun();
    const decision = await stored(runId, { steps: [write('a', { taskId: 't-a' })] });
    // The run changes after the decision (a later decision, not yet told): what this decision
    // wrote is told as it wrote it.
    await prisma.$executeRaw`UPDATE workflow_steps SET task_id = 't-later' WHERE run_id = ${runId}`;
    await activity.decided(runId, ...decision);
    const [event] = await told(runId);
    expect(event).toMatchObject({ seq: 1, type: 'step.status', data: { key: 'a', taskId: 't-a' } });
  });
});
