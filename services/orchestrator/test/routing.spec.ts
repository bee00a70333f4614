import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import {
  taskQueueName,
  type RoutingStrategy,
  type RunnerRecord,
  type TaskJob,
  type TaskQueueTarget,
} from '@hangar/contracts';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  type NewTask,
  type PrismaClient,
  TaskAdmission,
  TaskRepository,
} from '@hangar/db';
import { TaskLifecycle } from '@hangar/platform';
import { createRedis, RunnerRegistry } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { SchedulerService } from '../src/modules/scheduling/scheduler.service';
import { TaskRouter } from '../src/modules/scheduling/task-router';
import { startOrchestrator } from './support';

// Routing (docs/routing.md): the real orchestrator routes admitted tasks to the queues of runner
// pools registered (as runners register themselves, through RunnerRegistry) in Redis; which
// queue a task's job lands on is what a runner of that pool would take.
describe('routing tasks to runner pools', () => {
  const prefix = uniqueRedisPrefix('routing');
  const redis = createRedis(redisUrl());
  const registry = new RunnerRegistry(redis, { prefix });
  const queues = new Map<string, Queue<TaskJob>>();
  let database: TestDatabase;
  let prisma: PrismaClient;
  let app: INestApplicationContext;
  let scheduler: SchedulerService;
  let lifecycle: TaskLifecycle;
  let tasks: TaskRepository;

  function queue(target: TaskQueueTarget): Queue<TaskJob> {
    const name = taskQueueName(target);
    let found = queues.get(name);
    if (!found) {
      found = new Queue<TaskJob>(name, { connection: redis, prefix: `${prefix}:queue` });
      queues.set(name, found);
    }
    return found;
  }

  const jobsOn = async (target: TaskQueueTarget) =>
    (await queue(target).getJobs(['waiting', 'prioritized'])).map((job) => job.data.taskId).sort();

  async function register(id: string, pool: string, labels: string[], extra: Partial<RunnerRecord> = {}) {
    await registry.record({
      id,
      pool,
      executor: 'process',
      labels: [...labels, `pool=${pool}`, 'executor=process'].sort(),
      providers: ['claude', 'codex'],
      slots: 2,
      running: 0,
      seenAt: Date.now(),
      intervalMs: 60_000,
      ...extra,
    });
  }

  async function submit(input: Partial<NewTask> = {}) {
    const task = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'route me', ...input });
    await scheduler.schedule(task.id);
    return task;
  }

  const setProjectStrategy = (strategy: RoutingStrategy | null) =>
    prisma.project.update({ where: { id: DEFAULT_PROJECT_ID }, data: { routingStrategy: strategy } });

  beforeAll(async () => {
    database = await createTestDatabase('routing');
    prisma = createPrismaClient(database.url);
  });

  beforeEach(async () => {
    app = await startOrchestrator(database.url, prefix, { ROUTING_STRATEGY: 'capability' });
    scheduler = app.get(SchedulerService);
    lifecycle = app.get(TaskLifecycle);
    tasks = app.get(TaskRepository);
  });

  afterEach(async () => {
    await app.close();
    for (const found of queues.values()) await found.obliterate({ force: true });
    await redis.del(`${prefix}:runners`);
    await prisma.task.deleteMany();
    await setProjectStrategy(null);
  });

  afterAll(async () => {
    for (const found of queues.values()) await found.close();
    await redis.quit();
    await prisma.$disconnect();
    await database.drop();
  });

  it('puts each task only on the queue of a pool that offers the labels it requires', async () => {
    await register('gpu-1', 'gpu', ['gpu', 'large']);
    await register('eu-1', 'eu', ['region=eu']);
    await register('plain-1', 'plain', []);
    const gpu = await submit({ requires: ['gpu'] });
    const eu = await submit({ requires: ['region=eu'] });
    const byPool = await submit({ requires: ['pool=gpu'] });
    const plain = await submit();

    expect(await jobsOn({ pool: 'gpu' })).toEqual([gpu.id, byPool.id].sort());
    expect(await jobsOn({ pool: 'eu' })).toEqual([eu.id]);
    // capability: the plain pool, though the others are as idle.
    expect(await jobsOn({ pool: 'plain' })).toEqual([plain.id]);
    const stored = await prisma.task.findMany({ select: { id: true, pool: true } });
    expect(Object.fromEntries(stored.map((task) => [task.id, task.pool]))).toEqual({
      [gpu.id]: 'gpu',
      [eu.id]: 'eu',
      [byPool.id]: 'gpu',
      [plain.id]: 'plain',
    });
  });

  it('queues each of many tasks created while admission passes run, once, by the time its scheduling is done', async () => {
    await register('plain-1', 'plain', []);
    // As the gateway tells of them: each created, then its project's admission asked for,
    // while earlier passes still run (a pass reads the waiting tasks once, at its start).
    const created = await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        const task = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: `many ${index}` });
        await scheduler.schedule(task.id, DEFAULT_PROJECT_ID);
        return task;
      }),
    );
    const jobs = await queue({ pool: 'plain' }).getJobs(['waiting', 'prioritized']);
    expect(jobs.map((job) => job.data.taskId).sort()).toEqual(created.map((task) => task.id).sort());
    const stored = await prisma.task.findMany({ select: { pool: true, admittedAt: true } });
    expect(stored.every((task) => task.pool === 'plain' && task.admittedAt !== null)).toBe(true);
  });

  it('fails a task no known runner offers what it requires, saying what is missing and what is offered', async () => {
    await register('gpu-1', 'gpu', ['gpu']);
    const tpu = await submit({ requires: ['tpu'] });
    const stored = await tasks.get(tpu.id);
    expect(stored.status).toBe('FAILED');
    expect(stored.error).toBe(
      'unroutable: no runner offers label tpu and the claude CLI (pools: gpu [executor=process, gpu, pool=gpu, claude, codex])',
    );
    expect(await jobsOn({ pool: 'gpu' })).toEqual([]);
  });

  it('keeps a task whose pool has no live runner waiting, and routes it when one registers', async () => {
    // Seen an hour ago: known (its tasks are not refused), not live.
    await register('gpu-1', 'gpu', ['gpu'], { seenAt: Date.now() - 3600_000 });
    await register('plain-1', 'plain', []);
    const waiting = await submit({ requires: ['gpu'] });
    expect((await tasks.get(waiting.id)).status).toBe('QUEUED');
    expect(await jobsOn({ pool: 'gpu' })).toEqual([]);

    await register('gpu-1', 'gpu', ['gpu']);
    await scheduler.runnerRegistered();
    expect(await jobsOn({ pool: 'gpu' })).toEqual([waiting.id]);
    expect(await jobsOn({ pool: 'plain' })).toEqual([]);
  });

  it('moves a task queued before any runner registered to the pool that registers, taking its old job away', async () => {
    const early = await submit();
    expect(await jobsOn({ pool: 'default' })).toEqual([early.id]);
    await register('eu-1', 'eu', ['region=eu']);
    await scheduler.runnerRegistered();
    expect(await jobsOn({ pool: 'eu' })).toEqual([early.id]);
    expect(await jobsOn({ pool: 'default' })).toEqual([]);
    expect((await tasks.get(early.id)).pool).toBe('eu');
  });

  it('round-robin takes the pools in turn', async () => {
    await setProjectStrategy('round-robin');
    await register('a-1', 'a', []);
    await register('b-1', 'b', []);
    await register('c-1', 'c', ['gpu']);
    const submitted = [];
    for (let index = 0; index < 6; index += 1) submitted.push(await submit());
    const ids = submitted.map((task) => task.id);
    expect(await jobsOn({ pool: 'a' })).toEqual([ids[0], ids[3]].sort());
    expect(await jobsOn({ pool: 'b' })).toEqual([ids[1], ids[4]].sort());
    expect(await jobsOn({ pool: 'c' })).toEqual([ids[2], ids[5]].sort());
  });

  // The reconciler's pass reads the admitted tasks while a created message's pass may be routing
  // one of them: it sees no pool yet. Routing that copy again must not take a second turn.
  it('round-robin gives a task one turn, however many passes route it', async () => {
    await setProjectStrategy('round-robin');
    await register('a-1', 'a', []);
    await register('b-1', 'b', []);
    const first = await submit();
    const [read] = await app.get(TaskAdmission).admittedQueued();
    expect(read).toMatchObject({ id: first.id, pool: 'a' });
    await app.get(TaskRouter).route([{ ...read!, pool: null }]);
    const second = await submit();
    expect(await jobsOn({ pool: 'a' })).toEqual([first.id]);
    expect(await jobsOn({ pool: 'b' })).toEqual([second.id]);
  });

  it('least-loaded fills the pool with the most room, counting what waits on its queue', async () => {
    await setProjectStrategy('least-loaded');
    await register('big-1', 'big', [], { slots: 4, running: 2 });
    await register('small-1', 'small', [], { slots: 1, running: 0 });
    const first = await submit(); // small: 0/1 against big's 2/4
    const second = await submit(); // big: 2/4 against small's 1/1
    const third = await submit(); // big: 3/4
    expect(await jobsOn({ pool: 'small' })).toEqual([first.id]);
    expect(await jobsOn({ pool: 'big' })).toEqual([second.id, third.id].sort());
  });

  it('capability leaves the specialised pools to the tasks that need them, then takes the least loaded', async () => {
    await register('gpu-1', 'gpu', ['gpu']);
    await register('gpu-large-1', 'gpu-large', ['gpu', 'large']);
    await register('plain-1', 'plain', [], { running: 2 });
    const plain = await submit();
    const gpu = await submit({ requires: ['gpu'] });
    const large = await submit({ requires: ['gpu', 'large'] });
    expect(await jobsOn({ pool: 'plain' })).toEqual([plain.id]);
    expect(await jobsOn({ pool: 'gpu' })).toEqual([gpu.id]);
    expect(await jobsOn({ pool: 'gpu-large' })).toEqual([large.id]);
  });

  it("performance sends most of a profile's tasks where it recently succeeded, and still tries the other", async () => {
    await setProjectStrategy('performance');
    await register('flaky-1', 'flaky', []);
    await register('steady-1', 'steady', []);
    const profileId = (
      await prisma.agentProfile.findFirstOrThrow({ where: { projectId: DEFAULT_PROJECT_ID } })
    ).id;
    const finishedAt = new Date();
    await prisma.task.createMany({
      data: ['flaky', 'steady'].flatMap((pool) =>
        Array.from({ length: 6 }, () => ({
          projectId: DEFAULT_PROJECT_ID,
          profileId,
          prompt: 'history',
          timeoutSeconds: 60,
          pool,
          status: pool === 'flaky' ? ('FAILED' as const) : ('COMPLETED' as const),
          durationMs: 1000,
          finishedAt,
        })),
      ),
    });
    for (let index = 0; index < 8; index += 1) await submit();
    // Weights 1/8 and 7/8: seven to steady, one to flaky.
    expect(await jobsOn({ pool: 'steady' })).toHaveLength(7);
    expect(await jobsOn({ pool: 'flaky' })).toHaveLength(1);
  });

  it("a workflow's strategy overrides its project's", async () => {
    await setProjectStrategy('least-loaded');
    await register('a-1', 'a', []);
    await register('b-1', 'b', [], { running: 2 });
    const first = await submit({ routing: 'round-robin' });
    const second = await submit({ routing: 'round-robin' });
    expect(await jobsOn({ pool: 'a' })).toEqual([first.id]);
    expect(await jobsOn({ pool: 'b' })).toEqual([second.id]);
  });

  it("sends a task working in an earlier task's workspace to the runner holding it, or fails it when that runner is gone", async () => {
    await register('plain-1', 'plain', []);
    await register('plain-2', 'plain', []);
    const owner = await submit();
    await lifecycle.claim(owner.id, 1, 'plain-2', { workspace: '/w/owner', sandbox: 'none' });
    await lifecycle.finish(owner.id, 'plain-2', { status: 'COMPLETED', result: 'planned' });
    const follower = await submit({ workspaceOf: owner.id });
    expect(await jobsOn({ runner: 'plain-2' })).toEqual([follower.id]);
    expect((await prisma.task.findUniqueOrThrow({ where: { id: follower.id } })).pool).toBe('runner:plain-2');

    await registry.remove('plain-2');
    const orphan = await submit({ workspaceOf: owner.id });
    const stored = await tasks.get(orphan.id);
    expect(stored.status).toBe('FAILED');
    expect(stored.error).toMatch(
      /^unroutable: task \S+'s workspace is on runner plain-2, which is not running/,
    );
  });

  it("cancelling a waiting task removes its job from its pool's queue", async () => {
    await register('eu-1', 'eu', ['region=eu']);
    const task = await submit({ requires: ['region=eu'] });
    expect(await jobsOn({ pool: 'eu' })).toEqual([task.id]);
    await scheduler.cancel(task.id);
    expect(await jobsOn({ pool: 'eu' })).toEqual([]);
  });

  it("sends first attempts of a profile a runner keeps warm to that runner's own queue, as many as it has CLIs and free slots", async () => {
    // One pool of two runners: one keeps two warm CLIs of the default profile, but has one free
    // slot; the other keeps none.
    await register('warm-1', 'plain', [], { warm: { default: 2 }, slots: 2, running: 1 });
    await register('cold-1', 'plain', []);
    const created = [];
    for (let index = 0; index < 3; index += 1)
      created.push(await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'route me' }));
    // One routing pass for all three.
    await scheduler.admit(DEFAULT_PROJECT_ID);

    const onRunner = await jobsOn({ runner: 'warm-1' });
    expect(onRunner).toHaveLength(1);
    expect(await jobsOn({ pool: 'plain' })).toEqual(
      created
        .map((task) => task.id)
        .filter((id) => !onRunner.includes(id))
        .sort(),
    );
    expect((await tasks.get(onRunner[0]!)).pool).toBe('runner:warm-1');
  });
});
