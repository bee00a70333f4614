import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { taskQueueName, type TaskJob } from '@hangar/contracts';
import { createPrismaClient, DEFAULT_PROJECT_ID, TaskRepository, type PrismaClient } from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { createRedis, TaskEventStream } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { ReconcilerService } from '../src/modules/scheduling/reconciler.service';
import { startOrchestrator } from './support';

// The reconciler inside the real orchestrator module (its periodic pass is an hour away: each
// test calls it), over the real PostgreSQL and Redis.
describe(ReconcilerService.name, () => {
  const prefix = uniqueRedisPrefix('reconciler');
  const redis = createRedis(redisUrl());
  const jobsConnection = createRedis(redisUrl());
  const stream = new TaskEventStream(redis, { prefix });
  let database: TestDatabase;
  let prisma: PrismaClient;
  let tasks: TaskRepository;
  // The states the tests start from, written as a runner would have.
  let state: TaskStateStore;
  let jobs: Queue<TaskJob>;
  let app: INestApplicationContext;
  let reconciler: ReconcilerService;

  beforeAll(async () => {
    database = await createTestDatabase('reconciler');
    prisma = createPrismaClient(database.url);
    tasks = new TaskRepository(prisma);
    state = new TaskStateStore(prisma);
    jobs = new Queue<TaskJob>(taskQueueName({ pool: 'default' }), {
      connection: jobsConnection,
      prefix: `${prefix}:queue`,
    });
    app = await startOrchestrator(database.url, prefix, {
      RUNNER_HEARTBEAT_TIMEOUT_MS: '30000',
      TASK_MAX_ATTEMPTS: '2',
      STREAM_RETENTION_SECONDS: '120',
    });
    reconciler = app.get(ReconcilerService);
  });

  afterAll(async () => {
    await app?.close();
    await jobs.close();
    await jobsConnection.quit();
    await prisma.$disconnect();
    await redis.quit();
    await database.drop();
  });

  // What a runner that died long ago leaves behind: RUNNING, with an old heartbeat.
  async function silenceRunner(taskId: string) {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    await client.query(`UPDATE tasks SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [taskId]);
    await client.end();
  }

  it('should enqueue a QUEUED task that never reached the queue, once however often it runs', async () => {
    const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'missed message' });
    await reconciler.reconcile();
    await reconciler.reconcile();
    const job = await jobs.getJob(`${task.id}-a1`);
    expect(job?.data).toEqual({ taskId: task.id, attempt: 1, provider: 'claude' });
    // Every task job carries its priority (normal), so it waits among the prioritized.
    expect(job?.opts.priority).toBe(2);
    expect(
      (await jobs.getJobs(['waiting', 'prioritized'])).filter((waiting) => waiting.data.taskId === task.id),
    ).toHaveLength(1);
  });

  it('should requeue the next attempt of a task whose runner went silent, and say why in its events', async () => {
    const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'lost runner' });
    await state.claim(task.id, 'runner-a', '/w', 1);
    await silenceRunner(task.id);

    await reconciler.reconcile();

    const requeued = await tasks.get(task.id);
    expect(requeued).toMatchObject({ status: 'QUEUED', attempts: 1 });
    expect(requeued.error).toBe('runner-lost: runner runner-a sent no heartbeat for 30s (attempt 1 of 2)');
    expect((await jobs.getJob(`${task.id}-a2`))?.data).toEqual({
      taskId: task.id,
      attempt: 2,
      provider: 'claude',
    });
    expect(await stream.readAfter(task.id, 0)).toEqual([
      expect.objectContaining({
        seq: 1,
        type: 'task.status',
        data: { status: 'QUEUED', reason: requeued.error },
      }),
    ]);
  });

  it('should fail a task whose last attempt lost its runner', async () => {
    const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'lost twice' });
    await state.claim(task.id, 'runner-a', '/w', 1);
    await state.requeue(task.id, 'runner-a', 'runner-lost: first');
    await state.claim(task.id, 'runner-b', '/w', 2);
    await silenceRunner(task.id);

    await reconciler.reconcile();

    expect(await tasks.get(task.id)).toMatchObject({
      status: 'FAILED',
      error: 'runner-lost: runner runner-b sent no heartbeat for 30s (attempt 2 of 2)',
    });
    expect(await jobs.getJob(`${task.id}-a3`)).toBeUndefined();
    // Over for good: its stream stays for late subscribers, then goes, as a finished run's does.
    const ttl = await redis.ttl(stream.key(task.id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('should leave a running task with a fresh heartbeat alone', async () => {
    const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'alive' });
    await state.claim(task.id, 'runner-c', '/w', 1);
    await reconciler.reconcile();
    expect(await tasks.get(task.id)).toMatchObject({ status: 'RUNNING', attempts: 1, error: null });
  });

  it("should cancel a child task that outlived its parent (the parent's process died right after its end)", async () => {
    const parent = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'manager' });
    await state.claim(parent.id, 'runner-m', '/w', 1);
    const waiting = await state.createChild(
      {
        id: `c${parent.id.slice(1, 20)}w`,
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'child',
        parentTaskId: parent.id,
      },
      5,
    );
    const running = await state.createChild(
      {
        id: `c${parent.id.slice(1, 20)}r`,
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'child',
        parentTaskId: parent.id,
      },
      5,
    );
    if (waiting.kind !== 'created' || running.kind !== 'created') throw new Error('children not created');
    await state.claim(running.task.id, 'runner-c', '/w', 1);
    // The parent's end written, and nothing after it (no cascade).
    await state.finish(parent.id, 'runner-m', { status: 'COMPLETED', result: 'done' });

    await reconciler.reconcile();

    expect(await tasks.get(waiting.task.id)).toMatchObject({ status: 'CANCELLED' });
    // A running child is asked to stop; its runner ends it at its next heartbeat.
    const [runningChild] = await prisma.task.findMany({ where: { id: running.task.id } });
    expect(runningChild).toMatchObject({ status: 'RUNNING' });
    expect(runningChild!.cancelRequestedAt).not.toBeNull();
    expect(await tasks.finishedParentsWithLiveChildren()).not.toContain(parent.id);
  });
});
