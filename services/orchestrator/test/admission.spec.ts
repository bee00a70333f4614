import type { INestApplicationContext } from '@nestjs/common';
import { Queue, QueueEvents } from 'bullmq';
import { SCHEDULING_QUEUE, taskQueueName, type TaskJob, type TaskPriority } from '@hangar/contracts';
import { createPrismaClient, DEFAULT_PROJECT_ID, type PrismaClient } from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { TaskLifecycle } from '@hangar/platform';
import { createRedis } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { SchedulerService } from '../src/modules/scheduling/scheduler.service';
import { startOrchestrator } from './support';

// The per-project cap of active tasks, held by the orchestrator (it was the kubernetes
// executor's alone): a project's tasks beyond it wait, QUEUED, off the runners' queue, and go
// on it — high priority first, then oldest — as its tasks end; other projects are not held up.
describe('admission (MAX_ACTIVE_TASKS_PER_PROJECT)', () => {
  const prefix = uniqueRedisPrefix('admission');
  const connection = createRedis(redisUrl());
  const eventsConnection = createRedis(redisUrl());
  let database: TestDatabase;
  let prisma: PrismaClient;
  let state: TaskStateStore;
  let jobs: Queue<TaskJob>;
  let endings: QueueEvents;
  let apps: INestApplicationContext[] = [];
  let other: string;

  async function orchestrator(): Promise<INestApplicationContext> {
    const app = await startOrchestrator(database.url, prefix, { MAX_ACTIVE_TASKS_PER_PROJECT: '2' });
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    database = await createTestDatabase('admission');
    prisma = createPrismaClient(database.url);
    state = new TaskStateStore(prisma);
    jobs = new Queue<TaskJob>(taskQueueName({ pool: 'default' }), { connection, prefix: `${prefix}:queue` });
    endings = new QueueEvents(SCHEDULING_QUEUE, { connection: eventsConnection, prefix: `${prefix}:queue` });
    await endings.waitUntilReady();
    other = (await prisma.project.create({ data: { slug: 'other', name: 'Other' } })).id;
    await prisma.agentProfile.create({ data: { projectId: other, name: 'default' } });
  });

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    await jobs.obliterate({ force: true });
    await prisma.task.deleteMany();
  });

  afterAll(async () => {
    await endings.close();
    await jobs.close();
    await connection.quit();
    await eventsConnection.quit();
    await prisma.$disconnect();
    await database.drop();
  });

  const create = (prompt: string, priority: TaskPriority = 'normal', projectId = DEFAULT_PROJECT_ID) =>
    state.create({ projectId, prompt, priority });
  const queued = async () =>
    (await jobs.getJobs(['waiting', 'prioritized', 'active'])).map((job) => job.data.taskId).sort();

  // Resolves once the orchestrator has handled the end of `taskId` (BullMQ's own event).
  function ended(taskId: string, status: string): Promise<void> {
    return new Promise((resolve) => {
      const done = ({ jobId }: { jobId: string }) => {
        if (jobId !== `ended-${taskId}-${status}`) return;
        endings.off('completed', done);
        resolve();
      };
      endings.on('completed', done);
    });
  }

  it("queues a project's tasks up to its cap, the rest as its tasks end, high priority first", async () => {
    const app = await orchestrator();
    const scheduler = app.get(SchedulerService);
    const [a, b, c] = [await create('a'), await create('b'), await create('c')];
    const elsewhere = await create('elsewhere', 'normal', other);
    for (const task of [a, b, c, elsewhere]) await scheduler.schedule(task.id);
    expect(await queued()).toEqual([a.id, b.id, elsewhere.id].sort());
    expect((await prisma.task.findUniqueOrThrow({ where: { id: c.id } })).admittedAt).toBeNull();

    const urgent = await create('urgent', 'high');
    await scheduler.schedule(urgent.id);
    expect(await queued()).not.toContain(urgent.id);

    // a ends (as a runner ends it): its slot goes to the urgent task, not the older c.
    const lifecycle = app.get(TaskLifecycle);
    await lifecycle.claim(a.id, 1, 'runner-x', { workspace: '/w', sandbox: 'none' });
    await jobs.remove(`${a.id}-a1`);
    const told = ended(a.id, 'COMPLETED');
    await lifecycle.finish(a.id, 'runner-x', { status: 'COMPLETED', result: 'done' });
    await told;
    expect(await queued()).toEqual([b.id, elsewhere.id, urgent.id].sort());

    // A cancelled waiting task frees nothing and is never queued.
    await lifecycle.cancel(c.id);
    await scheduler.admit(DEFAULT_PROJECT_ID);
    expect(await queued()).not.toContain(c.id);
  });

  it('holds the cap when two orchestrators admit for one project at once', async () => {
    const [first, second] = [await orchestrator(), await orchestrator()];
    for (let index = 0; index < 6; index += 1) await create(`t${index}`);
    await Promise.all(
      [first, second, first, second].map((app) => app.get(SchedulerService).admit(DEFAULT_PROJECT_ID)),
    );
    expect(await queued()).toHaveLength(2);
    expect(await prisma.task.count({ where: { admittedAt: { not: null } } })).toBe(2);
  });
});
