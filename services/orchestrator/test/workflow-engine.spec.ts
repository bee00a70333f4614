import type { INestApplicationContext } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';
import { taskQueueName, WORKFLOW_QUEUE, type TaskJob, type WorkflowJob } from '@hangar/contracts';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  TaskRepository,
  WorkflowRunRepository,
  type PrismaClient,
} from '@hangar/db';
import { WorkflowRunStore } from '@hangar/db/workflow-state';
import { TaskLifecycle } from '@hangar/platform';
import { createRedis } from '@hangar/redis';
import { decide } from '@hangar/workflows';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { newTaskId, WorkflowEngine } from '../src/modules/workflows/workflow-engine.service';
import { createRun, startOrchestrator } from './support';

// The engine inside the real orchestrator module, over the real PostgreSQL and Redis: two
// orchestrators deciding one run at once, a crash between a decision and its tasks, a step's
// task ending (told through the durable queue, as the task lifecycle tells it), a cancel.
describe(WorkflowEngine.name, () => {
  const prefix = uniqueRedisPrefix('workflow-engine');
  const connection = createRedis(redisUrl());
  const eventsConnection = createRedis(redisUrl());
  let database: TestDatabase;
  let prisma: PrismaClient;
  let apps: INestApplicationContext[] = [];
  let tasks: TaskRepository;
  let runs: WorkflowRunRepository;
  let taskJobs: Queue<TaskJob>;
  let workflowJobs: Queue<WorkflowJob>;
  let events: QueueEvents;

  // `env`: more settings (WORKFLOW_LISTEN=false: steps' ends come through their jobs alone).
  async function orchestrator(env: Record<string, string> = {}): Promise<INestApplicationContext> {
    const app = await startOrchestrator(database.url, prefix, env);
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    database = await createTestDatabase('workflow_engine');
    prisma = createPrismaClient(database.url);
    tasks = new TaskRepository(prisma);
    runs = new WorkflowRunRepository(prisma);
    const queueOptions = { connection, prefix: `${prefix}:queue` };
    taskJobs = new Queue<TaskJob>(taskQueueName({ pool: 'default' }), queueOptions);
    workflowJobs = new Queue<WorkflowJob>(WORKFLOW_QUEUE, queueOptions);
    events = new QueueEvents(WORKFLOW_QUEUE, { connection: eventsConnection, prefix: `${prefix}:queue` });
    await events.waitUntilReady();
  });

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  afterAll(async () => {
    await events.close();
    await taskJobs.close();
    await workflowJobs.close();
    await connection.quit();
    await eventsConnection.quit();
    await prisma.$disconnect();
    await database.drop();
  });

  const startRun = (definition: unknown, inputs: Record<string, unknown> = {}) =>
    createRun(prisma, definition, inputs);

  const run = (id: string) => runs.getVisible(id, [DEFAULT_PROJECT_ID]);
  const runTasks = (runId: string) =>
    prisma.task.findMany({ where: { workflowRunId: runId }, orderBy: { workflowStep: 'asc' } });

  // Resolves once the engine has handled a job matching `holds` (BullMQ's own events).
  function handled(jobId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = ({ jobId: id }: { jobId: string }) => {
        if (id !== jobId) return;
        events.off('completed', done);
        resolve();
      };
      events.on('completed', done);
      events.on('failed', ({ jobId: id, failedReason }) => {
        if (id === jobId) reject(new Error(failedReason));
      });
    });
  }

  const fanOut = {
    inputs: { items: { type: 'array' } },
    steps: [
      { id: 'first', prompt: 'first' },
      { id: 'second', prompt: 'second' },
      { id: 'after', needs: ['first', 'second'], prompt: 'after {{steps.first.output}}' },
    ],
  };

  it('starts each ready step once when two orchestrators decide the same run at once', async () => {
    const [a, b] = [await orchestrator(), await orchestrator()];
    const runId = await startRun(fanOut);
    await Promise.all([a.get(WorkflowEngine).advance(runId), b.get(WorkflowEngine).advance(runId)]);

    const created = await runTasks(runId);
    expect(created.map((task) => [task.workflowStep, task.prompt, task.status])).toEqual([
      ['first', 'first', 'QUEUED'],
      ['second', 'second', 'QUEUED'],
    ]);
    const steps = (await run(runId)).steps;
    expect(steps.map((step) => [step.key, step.status, step.taskId])).toEqual(
      expect.arrayContaining([
        ['first', 'RUNNING', created[0]!.id],
        ['second', 'RUNNING', created[1]!.id],
      ]),
    );
    for (const task of created) expect((await taskJobs.getJob(`${task.id}-a1`))?.data.taskId).toBe(task.id);
  });

  it('starts each ready step once when one orchestrator gets two messages about a run at once', async () => {
    const engine = (await orchestrator()).get(WorkflowEngine);
    const runId = await startRun(fanOut);
    const [first, second] = await Promise.all([engine.advance(runId), engine.advance(runId)]);

    // The second is decided on what the first stored: nothing is left to start.
    expect(first!.start.map((start) => start.key).sort()).toEqual(['first', 'second']);
    expect(second!.start).toEqual([]);
    expect((await runTasks(runId)).map((task) => task.workflowStep)).toEqual(['first', 'second']);
  });

  it('takes a decision again on what another decision of the run stored while it was taken', async () => {
    const runId = await startRun(fanOut);
    const store = new WorkflowRunStore(prisma);
    const seen: string[][] = [];
    let other: string[] = [];
    const outcome = await store.advance(runId, async (snapshot) => {
      seen.push(snapshot.run.steps.map((step) => `${step.key}:${step.taskId}`));
      // Another orchestrator stores its decision of the same run first.
      if (seen.length === 1) {
        const first = await store.advance(runId, (inner) =>
          decide({ snapshot: inner, now: new Date(), newTaskId }),
        );
        other = first!.changes.start.map((start) => start.taskId);
      }
      return decide({ snapshot, now: new Date(), newTaskId });
    });
    // Its first take (on no steps) was not stored; the second saw the other's steps and starts
    // their tasks by the ids stored with them, never tasks of its own.
    expect(seen[0]).toEqual([]);
    expect(seen[1]!.map((step) => step.split(':')[1]).sort()).toEqual([...other].sort());
    expect(seen).toHaveLength(2);
    expect(outcome!.changes.start.map((start) => start.taskId).sort()).toEqual([...other].sort());
    expect((await run(runId)).steps.map((step) => step.taskId).sort()).toEqual([...other].sort());
  });

  it('creates the task of a step decided just before a crash, with the id stored for it', async () => {
    const runId = await startRun(fanOut);
    // The decision is stored, then the orchestrator dies before creating its tasks.
    const store = new WorkflowRunStore(prisma);
    const decided = await store.advance(runId, (snapshot) =>
      decide({ snapshot, now: new Date(), newTaskId }),
    );
    const chosen = decided!.changes.start.map((start) => start.taskId).sort();
    expect(await runTasks(runId)).toEqual([]);

    const app = await orchestrator();
    await app.get(WorkflowEngine).reconcile();
    expect((await runTasks(runId)).map((task) => task.id).sort()).toEqual(chosen);
  });

  it("goes on when a step's task ends, told through the durable queue by the task lifecycle", async () => {
    const app = await orchestrator({ WORKFLOW_LISTEN: 'false' });
    const runId = await startRun(fanOut);
    await app.get(WorkflowEngine).advance(runId);
    const lifecycle = app.get(TaskLifecycle);
    const [first, second] = await runTasks(runId);
    for (const [task, result] of [
      [first!, 'one'],
      [second!, 'two'],
    ] as const) {
      await lifecycle.claim(task.id, 1, 'runner-x', { workspace: '/w', sandbox: 'none' });
      const told = handled(`task-${task.id}-COMPLETED`);
      await lifecycle.finish(task.id, 'runner-x', { status: 'COMPLETED', result, costUsd: 0.25 });
      await told;
    }
    const after = (await runTasks(runId)).find((task) => task.workflowStep === 'after');
    expect(after).toMatchObject({ prompt: 'after one', status: 'QUEUED' });
    expect(await run(runId)).toMatchObject({ status: 'RUNNING', costUsd: 0.5 });

    await lifecycle.claim(after!.id, 1, 'runner-x', { workspace: '/w', sandbox: 'none' });
    const told = handled(`task-${after!.id}-COMPLETED`);
    await lifecycle.finish(after!.id, 'runner-x', { status: 'COMPLETED', result: 'three' });
    await told;
    const finished = await run(runId);
    expect(finished).toMatchObject({ status: 'COMPLETED', error: null });
    expect(finished.finishedAt).not.toBeNull();
    expect(finished.steps.map((step) => [step.key, step.status, step.output])).toEqual([
      ['first', 'COMPLETED', 'one'],
      ['second', 'COMPLETED', 'two'],
      ['after', 'COMPLETED', 'three'],
    ]);
  });

  // A task's end is decided on the run as the engine knows it (its job says how the task ended):
  // a decision that assumed the run's other tasks wrong (one ended and its job was lost) is not
  // stored but taken again on the run as it is.
  it('decides on the run as it is when another of its tasks ended unheard', async () => {
    const app = await orchestrator({ WORKFLOW_LISTEN: 'false' });
    const runId = await startRun(fanOut);
    await app.get(WorkflowEngine).advance(runId);
    const lifecycle = app.get(TaskLifecycle);
    const [first, second] = await runTasks(runId);
    for (const task of [first!, second!])
      await lifecycle.claim(task.id, 1, 'runner-x', { workspace: '/w', sandbox: 'none' });
    // The second task's end is stored, and its message to the engine lost (Redis lost it).
    await prisma.task.update({
      where: { id: second!.id },
      data: { status: 'COMPLETED', result: 'two', costUsd: 0.5, finishedAt: new Date() },
    });

    const told = handled(`task-${first!.id}-COMPLETED`);
    await lifecycle.finish(first!.id, 'runner-x', { status: 'COMPLETED', result: 'one', costUsd: 0.25 });
    await told;
    const after = (await runTasks(runId)).find((task) => task.workflowStep === 'after');
    expect(after).toMatchObject({ prompt: 'after one', status: 'QUEUED' });
    expect(await run(runId)).toMatchObject({ status: 'RUNNING', costUsd: 0.75 });
    expect((await run(runId)).steps.map((step) => [step.key, step.status, step.output])).toEqual([
      ['first', 'COMPLETED', 'one'],
      ['second', 'COMPLETED', 'two'],
      ['after', 'RUNNING', null],
    ]);
  });

  it('cancels every task of a cancelled run, queued or running', async () => {
    const app = await orchestrator();
    const runId = await startRun(fanOut);
    const engine = app.get(WorkflowEngine);
    await engine.advance(runId);
    const [first, second] = await runTasks(runId);
    await app.get(TaskLifecycle).claim(first!.id, 1, 'runner-x', { workspace: '/w', sandbox: 'none' });

    await engine.handle({ kind: 'cancel', runId, by: 'user:ann@example.com' });

    expect(await run(runId)).toMatchObject({
      status: 'CANCELLED',
      error: 'cancelled: by user:ann@example.com',
    });
    expect(await tasks.get(second!.id)).toMatchObject({ status: 'CANCELLED' });
    // The running one is asked to stop; its runner ends it (here: as a runner would).
    const running = await prisma.task.findUniqueOrThrow({ where: { id: first!.id } });
    expect(running.cancelRequestedAt).not.toBeNull();
    expect((await run(runId)).steps.map((step) => step.status)).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('fails a step whose task cannot be created, naming why', async () => {
    const app = await orchestrator();
    const runId = await startRun({ steps: [{ id: 'lost', prompt: 'x', profile: 'deleted-profile' }] });
    await app.get(WorkflowEngine).advance(runId);
    expect(await run(runId)).toMatchObject({
      status: 'FAILED',
      error: 'step-failed: lost: could not start: profile "deleted-profile" does not exist',
    });
  });
});
