import type { AgentEvent, TaskEvent } from '@hangar/contracts';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  TaskEventRepository,
  TaskRepository,
  type PrismaClient,
} from '@hangar/db';
import { createRedis, TaskEventLog, TaskEventStream } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import type { WebsocketPoolConfig } from '../src/config';
import { TaskDeliveryService } from '../src/modules/streaming/task-delivery.service';

const text = (value: string): AgentEvent => ({ type: 'assistant.text', data: { text: value } });
const status = (value: 'RUNNING' | 'COMPLETED'): AgentEvent => ({
  type: 'task.status',
  data: { status: value },
});

describe(TaskDeliveryService.name, () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  const redis = createRedis(redisUrl());
  const stream = new TaskEventStream(redis, { prefix: uniqueRedisPrefix('delivery') });
  let tasks: TaskRepository;
  let history: TaskEventRepository;
  let delivery: TaskDeliveryService;

  beforeAll(async () => {
    database = await createTestDatabase('delivery');
    prisma = createPrismaClient(database.url);
    tasks = new TaskRepository(prisma);
    history = new TaskEventRepository(prisma);
    delivery = new TaskDeliveryService(redis, stream, history, {
      STREAM_BLOCK_MS: 1000,
    } as WebsocketPoolConfig);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await redis.quit();
    await database.drop();
  });

  function collect(taskId: string, afterSeq: number) {
    const received: TaskEvent[] = [];
    const handle = delivery.start(taskId, afterSeq, (event) => received.push(event));
    return { received, handle };
  }

  it('should join history from Postgres with the live stream after the stream was trimmed', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'trim' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    await log.append([status('RUNNING'), ...Array.from({ length: 30 }, (_, index) => text(`e${index}`))]);
    await log.flush();
    await stream.trim(task.id, 5);
    expect(await stream.firstSeq(task.id)).toBe(27);

    const { received, handle } = collect(task.id, 3);
    await log.append([text('live-1'), text('live-2'), status('COMPLETED')]);
    await log.flush();
    await handle.done;

    expect(received.map((event) => event.seq)).toEqual(Array.from({ length: 31 }, (_, index) => index + 4));
    expect(received.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });
    expect(received.at(-2)).toMatchObject({ data: { text: 'live-2' } });
  });

  it('should serve a finished task whose stream has expired from Postgres alone', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'expired' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    await log.append([status('RUNNING'), text('only'), status('COMPLETED')]);
    await log.flush();
    await redis.del(stream.key(task.id));

    const { received, handle } = collect(task.id, 0);
    await handle.done;
    expect(received.map((event) => [event.seq, event.type])).toEqual([
      [1, 'task.status'],
      [2, 'assistant.text'],
      [3, 'task.status'],
    ]);
  });

  it('should wait for a task that has no events yet and stop when asked', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'quiet' });
    const received: TaskEvent[] = [];
    let arrived: () => void = () => undefined;
    const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
    const handle = delivery.start(task.id, 0, (event) => {
      received.push(event);
      arrived();
    });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    await log.append([status('RUNNING')]);
    // The first event arrives through the blocking read; then the subscriber leaves.
    await firstArrived;
    handle.stop();
    await handle.done;
    await log.flush();
    expect(received.map((event) => event.seq)).toEqual([1]);
  });
});
