import { Registry } from 'prom-client';
import {
  WorkflowDefinitionSchema,
  type AgentEvent,
  type ResyncMessage,
  type StepWrite,
  type Topic,
  type TopicEvent,
  type WorkflowRunActivity as RunActivityEntry,
} from '@hangar/contracts';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  TaskEventRepository,
  WorkflowRepository,
  WorkflowRunRepository,
  type PrismaClient,
} from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { WorkflowRunStore } from '@hangar/db/workflow-state';
import { WorkflowRunActivity } from '@hangar/platform';
import { createRedis, TaskEventLog, TaskEventStream, TopicStreams } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import type { WebsocketPoolConfig } from '../src/config';
import { RealtimeMetrics } from '../src/modules/realtime/realtime.metrics';
import { TopicHistory } from '../src/modules/realtime/topic-history';
import { MAX_BATCH, TopicHub, type SubscriberSink } from '../src/modules/realtime/topic-hub';

const text = (value: string): AgentEvent => ({ type: 'assistant.text', data: { text: value } });
const status = (value: 'RUNNING' | 'COMPLETED'): AgentEvent => ({
  type: 'task.status',
  data: { status: value },
});

// A subscriber that records what it gets and lets a test wait for a sequence number.
function collector(options: { fullAfterMessages?: number } = {}) {
  const events: TopicEvent[] = [];
  // How many events each message carried.
  const batches: number[] = [];
  const resyncs: ResyncMessage[] = [];
  const waiters: { seq: number; resolve: () => void }[] = [];
  const sink: SubscriberSink = {
    id: `collector-${Math.random()}`,
    full: () => options.fullAfterMessages !== undefined && batches.length >= options.fullAfterMessages,
    send: (message) => {
      events.push(...message.events);
      batches.push(message.events.length);
      const last = message.events.at(-1)!.seq;
      for (const waiter of waiters.filter((candidate) => last >= candidate.seq)) waiter.resolve();
    },
    resync: (message) => {
      resyncs.push(message);
      for (const waiter of waiters) waiter.resolve();
    },
  };
  // Resolves once `seq` has arrived, or the subscription was told to resync.
  const until = (seq: number) =>
    events.some((event) => event.seq >= seq) || resyncs.length > 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ seq, resolve }));
  return { events, batches, resyncs, sink, until };
}

describe(TopicHub.name, () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  const redis = createRedis(redisUrl());
  const prefix = uniqueRedisPrefix('hub');
  const stream = new TaskEventStream(redis, { prefix });
  const topics = new TopicStreams(redis, stream, { prefix });
  let tasks: TaskStateStore;
  let history: TaskEventRepository;
  let hub: TopicHub;

  beforeAll(async () => {
    database = await createTestDatabase('hub');
    prisma = createPrismaClient(database.url);
    tasks = new TaskStateStore(prisma);
    history = new TaskEventRepository(prisma);
    hub = new TopicHub(
      redis,
      topics,
      new TopicHistory(topics, history),
      new RealtimeMetrics(new Registry()),
      {
        STREAM_BLOCK_MS: 1000,
        WS_MAX_QUEUED_MESSAGES: 100,
      } as WebsocketPoolConfig,
    );
    hub.onApplicationBootstrap();
  });

  afterAll(async () => {
    await hub.onApplicationShutdown();
    await prisma.$disconnect();
    await redis.quit();
    await database.drop();
  });

  async function subscribe(topic: Topic, afterSeq: number, sink: SubscriberSink) {
    const subscription = await hub.subscribe(topic, afterSeq, sink);
    hub.start(subscription);
    return subscription;
  }

  it('should join history from Postgres with the live stream after the stream was trimmed', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'trim' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    await log.append([status('RUNNING'), ...Array.from({ length: 30 }, (_, index) => text(`e${index}`))]);
    await log.flush();
    await stream.trim(task.id, 5);
    expect(await stream.firstSeq(task.id)).toBe(27);

    const received = collector();
    const subscription = await subscribe(`task:${task.id}`, 3, received.sink);
    await log.append([text('live-1'), text('live-2'), status('COMPLETED')]);
    await log.flush();
    await received.until(34);
    hub.unsubscribe(subscription);

    expect(received.events.map((event) => event.seq)).toEqual(
      Array.from({ length: 31 }, (_, index) => index + 4),
    );
    expect(received.events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });
    expect(received.events.at(-2)).toMatchObject({ data: { text: 'live-2' } });
  });

  it('should replay what Postgres and the trimmed stream hold together, with nothing live yet', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'both halves' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    await log.append(Array.from({ length: 100 }, (_, index) => text(`e${index}`)));
    await log.flush();
    await stream.trim(task.id, 10);
    const received = collector();
    const subscription = await subscribe(`task:${task.id}`, 5, received.sink);
    await received.until(100);
    hub.unsubscribe(subscription);
    expect(received.events.map((event) => event.seq)).toEqual(
      Array.from({ length: 95 }, (_, index) => index + 6),
    );
  });

  it('should serve a finished task whose stream has expired from Postgres alone', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'expired' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    await log.append([status('RUNNING'), text('only'), status('COMPLETED')]);
    await log.flush();
    await redis.del(stream.key(task.id));

    const received = collector();
    const subscription = await subscribe(`task:${task.id}`, 0, received.sink);
    await received.until(3);
    hub.unsubscribe(subscription);
    expect(received.events.map((event) => [event.seq, event.type])).toEqual([
      [1, 'task.status'],
      [2, 'assistant.text'],
      [3, 'task.status'],
    ]);
  });

  it('should share one reader among subscribers and stop reading when the last leaves', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'shared' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    const before = hub.topicsRead;
    const first = collector();
    const second = collector();
    const a = await subscribe(`task:${task.id}`, 0, first.sink);
    const b = await subscribe(`task:${task.id}`, 0, second.sink);
    expect(hub.topicsRead).toBe(before + 1);
    await log.append([status('RUNNING'), text('one'), text('two')]);
    await Promise.all([first.until(3), second.until(3)]);
    expect(first.events.map((event) => event.seq)).toEqual([1, 2, 3]);
    expect(second.events.map((event) => event.seq)).toEqual([1, 2, 3]);
    hub.unsubscribe(a);
    expect(hub.topicsRead).toBe(before + 1);
    hub.unsubscribe(b);
    expect(hub.topicsRead).toBe(before);
    await log.flush();
  });

  it('should tell a subscriber that cannot keep up to resync from the last event it got', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'slow' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    // Takes three messages, then is full.
    const slow = collector({ fullAfterMessages: 3 });
    await subscribe(`task:${task.id}`, 0, slow.sink);
    for (let seq = 1; seq <= 5; seq++) {
      await log.append([text(`e${seq}`)]);
      await slow.until(seq);
    }
    expect(slow.events.map((event) => event.seq)).toEqual([1, 2, 3]);
    expect(slow.resyncs).toEqual([{ topic: `task:${task.id}`, afterSeq: 3, reason: 'slow-consumer' }]);
    await log.flush();
  });

  it('should send what arrives together in batches of at most MAX_BATCH events', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'batched' });
    const log = new TaskEventLog(task.id, stream, history, { minSeq: 1 });
    await log.append(Array.from({ length: 250 }, (_, index) => text(`old ${index}`)));
    const received = collector();
    const subscription = await subscribe(`task:${task.id}`, 0, received.sink);
    await received.until(250);
    await log.append(Array.from({ length: 30 }, (_, index) => text(`new ${index}`)));
    await received.until(280);
    hub.unsubscribe(subscription);
    expect(received.events.map((event) => event.seq)).toEqual(Array.from({ length: 280 }, (_, i) => i + 1));
    expect(received.batches.every((size) => size <= MAX_BATCH)).toBe(true);
    // The backlog in full batches; the 30 written at once in one.
    expect(received.batches.slice(0, 3)).toEqual([100, 100, 50]);
    expect(received.batches.at(-1)).toBe(30);
    await log.flush();
  });

  it("should replay a workflow run's story after afterSeq and go on live, each step as stored", async () => {
    const workflows = new WorkflowRepository(prisma);
    const runs = new WorkflowRunRepository(prisma);
    const store = new WorkflowRunStore(prisma);
    const activity = new WorkflowRunActivity(topics, runs, {
      TASK_MAX_ATTEMPTS: 1,
      STREAM_RETENTION_SECONDS: 60,
    });
    const workflow = await workflows.create(
      DEFAULT_PROJECT_ID,
      WorkflowDefinitionSchema.parse({ name: 'hub-run', steps: [{ id: 'a', prompt: 'a' }] }),
      'test',
    );
    const runId = await runs.create({
      workflowId: workflow.id,
      version: 1,
      projectId: DEFAULT_PROJECT_ID,
      inputs: {},
      deadlineAt: null,
      createdBy: 'test',
    });
    const step = (status: StepWrite['status']): StepWrite => ({
      key: 'a',
      stepId: 'a',
      iteration: null,
      item: null,
      status,
    });
    // As the engine tells each decision: once it is stored.
    const decide = async (changes: Parameters<WorkflowRunActivity['decided']>[1]) =>
      activity.decided(runId, (await store.advance(runId, () => changes))!.changes);
    await decide({ steps: [step('RUNNING')] });
    await decide({ steps: [], run: { costUsd: 0.5 } });

    const received = collector();
    const subscription = await subscribe(`workflow-run:${runId}`, 1, received.sink);
    await decide({ steps: [step('COMPLETED')], run: { status: 'COMPLETED', outputs: {} } });
    await received.until(4);
    hub.unsubscribe(subscription);

    const events = received.events.map((event) => ({ seq: event.seq, ...(event as RunActivityEntry) }));
    expect(events.map((event) => [event.seq, event.type, event.data.status])).toEqual([
      [2, 'run.status', 'RUNNING'],
      [3, 'step.status', 'COMPLETED'],
      [4, 'run.status', 'COMPLETED'],
    ]);
    const run = await runs.getVisible(runId, [DEFAULT_PROJECT_ID]);
    expect(events[1]!.data).toEqual(run.steps[0]);
    expect(events[2]!.data).toEqual({ status: 'COMPLETED', error: null, outputs: {}, costUsd: 0.5 });
  });

  it('should say the history is gone when a project topic is asked for more than it keeps', async () => {
    const project = `hub-${Date.now()}`;
    for (let index = 0; index < 10; index++) {
      await topics.append(`project:${project}`, [{ type: 'task.status', data: { index } }]);
    }
    await redis.xtrim(topics.key(`project:${project}`), 'MAXLEN', 3);
    const late = collector();
    await subscribe(`project:${project}`, 2, late.sink);
    await late.until(10);
    expect(late.resyncs).toEqual([
      { topic: `project:${project}`, afterSeq: 7, reason: 'history-gone', reload: true },
    ]);
  });
});
