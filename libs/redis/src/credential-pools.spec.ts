import { randomUUID } from 'node:crypto';
import { CredentialPools, type PoolMember } from './credential-pools';
import { createRedis } from './redis-client';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// Credential pools over the real Redis, shared by two runners' connections: the least busy
// credential first, caps that hold across runners, rests that move calls to another credential
// and mark the pool limited once every credential rests.
describe(CredentialPools.name, () => {
  const prefix = `test-${randomUUID()}`;
  const connections = [createRedis(redisUrl), createRedis(redisUrl)];
  const [a, b] = connections.map((redis) => new CredentialPools(redis, { prefix }));
  const member = (name: string, caps: Partial<PoolMember> = {}): PoolMember => ({
    name,
    maxConcurrent: null,
    tokensPerMinute: null,
    ...caps,
  });

  afterAll(async () => {
    const keys = await connections[0]!.keys(`${prefix}:*`);
    if (keys.length > 0) await connections[0]!.del(...keys);
    await Promise.all(connections.map((redis) => redis.quit()));
  });

  it('leases the least busy credential, and holds each to its concurrency across runners', async () => {
    const pool = [member('one', { maxConcurrent: 2 }), member('two', { maxConcurrent: 1 })];
    const leased = await Promise.all([
      a!.acquire('claude', pool, 'l1'),
      b!.acquire('claude', pool, 'l2'),
      a!.acquire('claude', pool, 'l3'),
    ]);
    expect(leased.map((choice) => (choice.ok ? choice.name : choice.why)).sort()).toEqual([
      'one',
      'one',
      'two',
    ]);
    expect(await b!.acquire('claude', pool, 'l4')).toEqual({ ok: false, why: 'busy' });
    // The call on `two` ends: it takes the next.
    const onTwo = leased.find((choice) => choice.ok && choice.name === 'two');
    if (!onTwo?.ok) throw new Error('no call went out with two');
    await a!.release('claude', 'two', onTwo.lease, 100);
    expect(await b!.acquire('claude', pool, 'l5')).toEqual({ ok: true, name: 'two', lease: 'l5' });
  });

  it('holds a credential to its tokens per minute, counted as calls end', async () => {
    const pool = [member('metered', { tokensPerMinute: 1000 })];
    const first = await a!.acquire('codex', pool, 'm1');
    expect(first.ok).toBe(true);
    await a!.release('codex', 'metered', 'm1', 1000);
    expect(await b!.acquire('codex', pool, 'm2')).toEqual({ ok: false, why: 'busy' });
  });

  it('moves calls off a rested credential, and marks the pool limited until its first is back', async () => {
    const pool = [member('left'), member('right')];
    const now = Date.now();
    expect(await a!.rest('gemini', 'left', now + 60_000, pool)).toBeNull();
    expect(await b!.acquire('gemini', pool, 'g1')).toEqual({ ok: true, name: 'right', lease: 'g1' });
    expect(await a!.limited(['gemini', 'claude'])).toEqual(new Map());
    // An earlier reset does not shorten a rest.
    await b!.rest('gemini', 'left', now + 1000, pool);
    const back = now + 400;
    expect(await b!.rest('gemini', 'right', back, pool)).toBe(back);
    expect(await a!.acquire('gemini', pool, 'g2')).toEqual({ ok: false, why: 'rested', until: back });
    expect(await a!.limited(['gemini', 'claude'])).toEqual(new Map([['gemini', back]]));
    // At its reset the pool is back, by itself.
    await new Promise((resolve) => setTimeout(resolve, back - Date.now() + 20));
    expect(await a!.limited(['gemini'])).toEqual(new Map());
    expect(await a!.acquire('gemini', pool, 'g3')).toEqual({ ok: true, name: 'right', lease: 'g3' });
  });
});
