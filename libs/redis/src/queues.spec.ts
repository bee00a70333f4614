import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { ZodError } from 'zod';
import type { TaskJob } from '@hangar/contracts';
import { createRedis } from './redis-client';
import { Queues, taskQueueSpec } from './queues';

const TASK_QUEUE_SPEC = taskQueueSpec({ pool: 'default' });

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// The one home of BullMQ queues and workers, over the real Redis.
describe(Queues.name, () => {
  const prefix = `test-${randomUUID()}`;
  const queues = new Queues({ url: redisUrl, prefix });
  // What another service (or an older version) could have put on the queue, unchecked.
  const rawConnection = createRedis(redisUrl);
  const raw = new Queue(TASK_QUEUE_SPEC.name, { connection: rawConnection, prefix: `${prefix}:queue` });
  const events = new QueueEvents(TASK_QUEUE_SPEC.name, {
    connection: { url: redisUrl },
    prefix: `${prefix}:queue`,
  });

  afterAll(async () => {
    await queues.onApplicationShutdown();
    await raw.close();
    await events.close();
    await rawConnection.quit();
  });

  it("should refuse to add data that is not the queue's message, adding nothing", async () => {
    const producer = queues.producer(TASK_QUEUE_SPEC);
    await expect(producer.add('run', { taskId: 't1', attempt: 0 })).rejects.toThrow(ZodError);
    expect(await producer.count()).toBe(0);
  });

  it("should hand a consumer its job's checked data, and fail a malformed job once, unretried", async () => {
    await events.waitUntilReady();
    const producer = queues.producer(TASK_QUEUE_SPEC);
    const seen: TaskJob[] = [];
    const worker = queues.consumer(TASK_QUEUE_SPEC, async (data) => {
      seen.push(data);
      return 'ran';
    });
    const completed = new Promise<string>((resolve) =>
      events.on('completed', ({ jobId, returnvalue }) => jobId === 't-ok-a1' && resolve(String(returnvalue))),
    );
    await producer.add('run', { taskId: 't-ok', attempt: 1 }, { jobId: 't-ok-a1' });
    expect(await completed).toBe('ran');
    expect(seen).toEqual([{ taskId: 't-ok', attempt: 1 }]);

    const failed = new Promise<string>((resolve) =>
      events.on('failed', ({ jobId, failedReason }) => jobId === 'bad-a1' && resolve(failedReason)),
    );
    // Three tries allowed: the malformed job must still be tried once only.
    await raw.add('run', { taskId: 42 }, { jobId: 'bad-a1', attempts: 3 });
    expect(await failed).toMatch(/job bad-a1 of hangar-tasks.pool.default is malformed/);
    const job = await producer.getJob('bad-a1');
    expect(job?.attemptsMade).toBe(1);
    expect(seen).toHaveLength(1);

    await queues.release(worker);
    expect(worker.isRunning()).toBe(false);
  });

  it('should remove a waiting job, and take a second removal calmly', async () => {
    const producer = queues.producer(TASK_QUEUE_SPEC);
    await producer.add('run', { taskId: 't-rm', attempt: 1 }, { jobId: 't-rm-a1' });
    expect(await producer.jobIds(['wait'])).toContain('t-rm-a1');
    await producer.remove('t-rm-a1');
    await producer.remove('t-rm-a1');
    expect(await producer.jobIds(['wait'])).not.toContain('t-rm-a1');
  });
});
