import { randomUUID } from 'node:crypto';
import type { RunnerRecord } from '@hangar/contracts';
import { createRedis } from './redis-client';
import { RUNNER_RECORD_TTL_MS, RunnerRegistry } from './runner-registry';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// The runners' registrations (docs/routing.md), over the real Redis.
describe(RunnerRegistry.name, () => {
  const prefix = `test-${randomUUID()}`;
  const redis = createRedis(redisUrl);
  const registry = new RunnerRegistry(redis, { prefix });
  const now = Date.now();
  const record = (id: string, extra: Partial<RunnerRecord> = {}): RunnerRecord => ({
    id,
    pool: 'gpu',
    executor: 'process',
    labels: ['executor=process', 'gpu', 'pool=gpu'],
    providers: ['claude'],
    slots: 2,
    running: 1,
    seenAt: now,
    intervalMs: 5000,
    ...extra,
  });

  afterAll(async () => {
    await redis.del(`${prefix}:runners`);
    await redis.quit();
  });

  it('keeps each runner once, as it last registered, until it leaves', async () => {
    await registry.record(record('b'));
    await registry.record(record('a', { running: 0 }));
    await registry.record(record('a', { running: 2 }));
    expect((await registry.all(now)).map((runner) => [runner.id, runner.running])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    await registry.remove('b');
    expect((await registry.all(now)).map((runner) => runner.id)).toEqual(['a']);
  });

  it('forgets a runner not seen for a day, and drops a record it cannot read', async () => {
    await registry.record(record('old', { seenAt: now - RUNNER_RECORD_TTL_MS - 1 }));
    await redis.hset(`${prefix}:runners`, 'garbled', '{"id":');
    expect((await registry.all(now)).map((runner) => runner.id)).toEqual(['a']);
    expect(await redis.hkeys(`${prefix}:runners`)).toEqual(['a']);
  });

  it('refuses to write a record that does not fit its schema', async () => {
    await expect(registry.record(record('bad', { pool: 'Not A Pool' }))).rejects.toThrow();
  });
});
