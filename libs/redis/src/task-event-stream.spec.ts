import { randomUUID } from 'node:crypto';
import type { AgentEvent } from '@hangar/contracts';
import { createRedis } from './redis-client';
import { TaskEventStream } from './task-event-stream';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const text = (value: string): AgentEvent => ({ type: 'assistant.text', data: { text: value } });

describe(TaskEventStream.name, () => {
  const redis = createRedis(redisUrl);
  const blocking = redis.duplicate();
  const stream = new TaskEventStream(redis, { prefix: `test-${randomUUID()}` });

  afterAll(async () => {
    await redis.quit();
    await blocking.quit();
  });

  it('should number events from 1 without gaps across appends', async () => {
    const taskId = randomUUID();
    const first = await stream.append(taskId, [text('a'), text('b')]);
    const second = await stream.append(taskId, [text('c')]);
    expect([...first, ...second].map((event) => event.seq)).toEqual([1, 2, 3]);
    const replay = await stream.readAfter(taskId, 1);
    expect(replay.map((event) => [event.seq, event.type, event.data])).toEqual([
      [2, 'assistant.text', { text: 'b' }],
      [3, 'assistant.text', { text: 'c' }],
    ]);
  });

  it('should never hand out the same number when writers race', async () => {
    const taskId = randomUUID();
    const writers = Array.from({ length: 20 }, (_, index) =>
      stream.append(taskId, [text(`w${index}`), text(`x${index}`)]),
    );
    const results = (await Promise.all(writers)).flat();
    const seqs = results.map((event) => event.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
  });

  it('should continue after minSeq when the stream is empty', async () => {
    const taskId = randomUUID();
    const [event] = await stream.append(taskId, [text('resumed')], 42);
    expect(event?.seq).toBe(42);
    expect(await stream.lastSeq(taskId)).toBe(42);
  });

  it('should wake a blocked reader when an event is appended', async () => {
    const taskId = randomUUID();
    await stream.append(taskId, [text('before')]);
    const waiting = stream.waitAfter(blocking, taskId, 1, 5000);
    await stream.append(taskId, [text('after')]);
    const events = await waiting;
    expect(events.map((event) => event.seq)).toEqual([2]);
  });
});
