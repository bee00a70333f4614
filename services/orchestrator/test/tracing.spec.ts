import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { taskQueueName, type TaskJob, type TraceContext } from '@hangar/contracts';
import { createPrismaClient, DEFAULT_PROJECT_ID, type PrismaClient } from '@hangar/db';
import { TaskLifecycle } from '@hangar/platform';
import { createRedis } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { ReconcilerService } from '../src/modules/scheduling/reconciler.service';
import { SchedulingController } from '../src/modules/scheduling/scheduling.controller';
import { startOrchestrator } from './support';

// One trace per request (docs/observability.md#one-trace-per-request): the real orchestrator
// (its tracing off, as in a process without OTEL_EXPORTER_OTLP_ENDPOINT) puts the trace of the
// tasks.created message it handled on the task's job, the task's own trace (tasks.trace) on a
// job it queues without a message, and drops a malformed trace rather than the message.
describe('the trace a task’s job carries', () => {
  const prefix = uniqueRedisPrefix('orchestrator-tracing');
  const redis = createRedis(redisUrl());
  const queue = new Queue<TaskJob>(taskQueueName({ pool: 'default' }), {
    connection: redis,
    prefix: `${prefix}:queue`,
  });
  const created: TraceContext = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
  const message: TraceContext = {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'vendor=abc',
  };
  let database: TestDatabase;
  let prisma: PrismaClient;
  let app: INestApplicationContext;
  let lifecycle: TaskLifecycle;
  let controller: SchedulingController;

  const jobOf = async (taskId: string) =>
    (await queue.getJobs(['waiting', 'prioritized'])).find((job) => job.data.taskId === taskId)?.data;

  beforeAll(async () => {
    database = await createTestDatabase('orchestrator-tracing');
    prisma = createPrismaClient(database.url);
    app = await startOrchestrator(database.url, prefix);
    lifecycle = app.get(TaskLifecycle);
    controller = app.get(SchedulingController);
  });

  afterAll(async () => {
    await app?.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await redis.quit();
    await prisma?.$disconnect();
    await database?.drop();
  });

  it('should send the job in the trace of the tasks.created message it handled', async () => {
    const task = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'traced', trace: created });
    await controller.taskCreated({ taskId: task.id, projectId: DEFAULT_PROJECT_ID, trace: message });
    expect((await jobOf(task.id))?.trace).toEqual(message);
  });

  it('should handle a message whose trace is malformed, the job then in the task’s own trace', async () => {
    const task = await lifecycle.create({
      projectId: DEFAULT_PROJECT_ID,
      prompt: 'malformed',
      trace: created,
    });
    await expect(
      controller.taskCreated({
        taskId: task.id,
        projectId: DEFAULT_PROJECT_ID,
        trace: { traceparent: '00-ffff-not-a-trace-01' },
      }),
    ).resolves.toBeUndefined();
    expect((await jobOf(task.id))?.trace).toEqual(created);
  });

  it('should send no trace for a task created outside any trace, nor fail on it', async () => {
    const task = await lifecycle.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'untraced' });
    await controller.taskCreated({ taskId: task.id, projectId: DEFAULT_PROJECT_ID, trace: 'garbage' });
    const job = await jobOf(task.id);
    expect(job).toMatchObject({ taskId: task.id, attempt: 1 });
    expect(job?.trace).toBeUndefined();
  });

  it('should queue a task again in its own trace when no message tells of it (the reconciler)', async () => {
    const task = await lifecycle.create({
      projectId: DEFAULT_PROJECT_ID,
      prompt: 'reconciled',
      trace: created,
    });
    // No message: its job is the reconciler's (admitted first, as a lost message leaves it).
    await app.get(ReconcilerService).reconcile();
    expect((await jobOf(task.id))?.trace).toEqual(created);
    // Its job lost (a Redis restart, say): queued again, in the same trace.
    await queue.remove(`${task.id}-a1`);
    await app.get(ReconcilerService).reconcile();
    expect((await jobOf(task.id))?.trace).toEqual(created);
  });
});
