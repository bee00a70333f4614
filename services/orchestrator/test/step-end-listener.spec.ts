import type { INestApplicationContext } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';
import { WORKFLOW_QUEUE, type WorkflowJob } from '@hangar/contracts';
import { createPrismaClient, type PrismaClient } from '@hangar/db';
import { TaskLifecycle } from '@hangar/platform';
import { createRedis } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { StepEndListener } from '../src/modules/workflows/step-end-listener';
import { WorkflowEngine } from '../src/modules/workflows/workflow-engine.service';
import { createRun, startOrchestrator } from './support';

// A step's end heard from PostgreSQL as it commits (LISTEN/NOTIFY, the tasks table's trigger),
// in the real orchestrator module over the real PostgreSQL and Redis: decided before its job on
// the workflow queue is taken, the job then changing nothing; one orchestrator listening at a
// time, another taking over when its session ends.
describe(StepEndListener.name, () => {
  const prefix = uniqueRedisPrefix('step-end-listener');
  const connection = createRedis(redisUrl());
  const reader = createRedis(redisUrl());
  const eventsConnection = createRedis(redisUrl());
  let database: TestDatabase;
  let prisma: PrismaClient;
  let workflowJobs: Queue<WorkflowJob>;
  let events: QueueEvents;
  let apps: INestApplicationContext[] = [];

  async function orchestrator(): Promise<INestApplicationContext> {
    const app = await startOrchestrator(database.url, prefix, { WORKFLOW_LISTEN_RETRY_MS: '50' });
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    database = await createTestDatabase('step_end_listener');
    prisma = createPrismaClient(database.url);
    workflowJobs = new Queue<WorkflowJob>(WORKFLOW_QUEUE, { connection, prefix: `${prefix}:queue` });
    events = new QueueEvents(WORKFLOW_QUEUE, { connection: eventsConnection, prefix: `${prefix}:queue` });
    await events.waitUntilReady();
  });

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    await workflowJobs.resume();
  });

  afterAll(async () => {
    await events.close();
    await workflowJobs.close();
    await Promise.all([connection.quit(), reader.quit(), eventsConnection.quit()]);
    await prisma.$disconnect();
    await database.drop();
  });

  const startRun = () =>
    createRun(prisma, {
      steps: [
        { id: 'first', prompt: 'first' },
        { id: 'second', prompt: 'second' },
        { id: 'after', needs: ['first', 'second'], prompt: 'after {{steps.first.output}}' },
      ],
    });

  const runTasks = (runId: string) =>
    prisma.task.findMany({ where: { workflowRunId: runId }, orderBy: { workflowStep: 'asc' } });

  // The next task told QUEUED on the project's topic other than `known` (its stream, read as
  // watchers read it).
  async function nextQueued(from: string, known: Set<string>): Promise<string> {
    let last = from;
    for (;;) {
      const read = await reader.xread('BLOCK', 20_000, 'STREAMS', `${prefix}:project:default:events`, last);
      if (!read) throw new Error('no task was queued within 20 s');
      for (const [id, fields] of read[0]![1]) {
        last = id;
        const entry = JSON.parse(fields[1]!) as { type: string; data: { taskId: string; status: string } };
        if (entry.data.status === 'QUEUED' && !known.has(entry.data.taskId)) return entry.data.taskId;
      }
    }
  }

  function handled(jobId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      events.on('completed', ({ jobId: id }) => id === jobId && resolve());
      events.on('failed', ({ jobId: id, failedReason }) => id === jobId && reject(new Error(failedReason)));
    });
  }

  it("decides a step's end as PostgreSQL commits it, before its job is taken; the job then changes nothing", async () => {
    const app = await orchestrator();
    expect(await app.get(StepEndListener).settled()).toBe(true);
    await workflowJobs.pause(); // no job on the workflow queue is taken
    const runId = await startRun();
    await app.get(WorkflowEngine).advance(runId);
    const lifecycle = app.get(TaskLifecycle);
    const [first, second] = await runTasks(runId);
    for (const task of [first!, second!])
      await lifecycle.claim(task.id, 1, 'runner-x', { workspace: '/w', sandbox: 'none' });

    const from =
      (await reader.xrevrange(`${prefix}:project:default:events`, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0';
    await lifecycle.finish(first!.id, 'runner-x', { status: 'COMPLETED', result: 'one', costUsd: 0.25 });
    await lifecycle.finish(second!.id, 'runner-x', { status: 'COMPLETED', result: 'two', costUsd: 0.5 });
    const afterId = await nextQueued(from, new Set([first!.id, second!.id]));

    expect(await prisma.task.findUniqueOrThrow({ where: { id: afterId } })).toMatchObject({
      workflowStep: 'after',
      prompt: 'after one',
      status: 'QUEUED',
    });
    const jobs = [`task-${first!.id}-COMPLETED`, `task-${second!.id}-COMPLETED`];
    for (const jobId of jobs) expect(await (await workflowJobs.getJob(jobId))?.getState()).toBe('waiting');
    const decided = await prisma.workflowRun.findUniqueOrThrow({ where: { id: runId } });
    expect(decided).toMatchObject({ status: 'RUNNING', costUsd: 0.75 });

    // The jobs are taken now: the ends they tell were decided, and nothing more is written.
    const told = Promise.all(jobs.map(handled));
    await workflowJobs.resume();
    await told;
    expect((await runTasks(runId)).map((task) => task.workflowStep)).toEqual(['after', 'first', 'second']);
    expect(await prisma.workflowRun.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
      decisions: decided.decisions,
    });
  });

  it('has one orchestrator listen at a time, and another take over when its session ends', async () => {
    const [a, b] = [await orchestrator(), await orchestrator()];
    const [la, lb] = [a.get(StepEndListener), b.get(StepEndListener)];
    expect([await la.settled(), await lb.settled()].sort()).toEqual([false, true]);
    const holders = async () =>
      (
        await prisma.$queryRaw<{ count: number }[]>`
          SELECT count(*)::int AS count FROM pg_locks
          WHERE locktype = 'advisory' AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
      )[0]!.count;
    expect(await holders()).toBe(1);

    // PostgreSQL ends the listening session: one of them listens again, alone.
    const before = { a: la.generation, b: lb.generation };
    await prisma.$queryRaw`
      SELECT pg_terminate_backend(pid) FROM pg_locks
      WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    await Promise.race([la.whenListening(before.a), lb.whenListening(before.b)]);
    expect(await holders()).toBe(1);

    // The one listening now closes: the other takes over.
    const [listening, waiting] = la.generation > before.a ? [a, b] : [b, a];
    const generation = waiting.get(StepEndListener).generation;
    await listening.close();
    apps = apps.filter((app) => app !== listening);
    await waiting.get(StepEndListener).whenListening(generation);
    expect(waiting.get(StepEndListener).listening).toBe(true);
    expect(await holders()).toBe(1);
  });
});
