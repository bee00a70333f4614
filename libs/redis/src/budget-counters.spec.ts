import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BudgetCounter, BudgetCounters } from './budget-counters';
import { createRedis } from './redis-client';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// Budgets' counters over the real Redis: admitted against every budget or none, refused once
// spent, and runners racing on one budget overspending it by at most one call.
describe(BudgetCounters.name, () => {
  const prefix = `test-${randomUUID()}`;
  const connections = [createRedis(redisUrl), createRedis(redisUrl), createRedis(redisUrl)];
  const [a, b, c] = connections.map((redis) => new BudgetCounters(redis, { prefix }));
  const counter = (budgetId: string, limits: Partial<BudgetCounter> = {}): BudgetCounter => ({
    budgetId,
    window: 'total',
    limitUsd: 1,
    limitTokens: null,
    softUsd: null,
    softTokens: null,
    ttlSeconds: 60,
    ...limits,
  });

  afterAll(async () => {
    const keys = await connections[0]!.keys(`${prefix}:*`);
    if (keys.length > 0) await connections[0]!.del(...keys);
    await Promise.all(connections.map((redis) => redis.quit()));
  });

  it('admits a call against every budget, and refuses by the first one spent', async () => {
    const project = counter('project', { limitUsd: 1 });
    const task = counter('task', { limitUsd: null, limitTokens: 100 });
    await a!.seed(project, { usd: 0.5, tokens: 0 });
    // A counter not seeded yet is named first, and nothing is counted in flight.
    expect(await a!.admit([project, task])).toEqual({ admitted: false, budgetId: 'task', why: 'unseeded' });
    await a!.seed(task, { usd: 0, tokens: 0 });
    expect(await a!.admit([project, task])).toEqual({ admitted: true });
    await a!.release([project, task], { usd: 0.25, tokens: 120 });
    expect(await a!.spent(project)).toEqual({ usd: 0.75, tokens: 120 });
    // The task's tokens are spent: refused, and nothing counted in flight.
    expect(await a!.admit([project, task])).toEqual({ admitted: false, budgetId: 'task', why: 'spent' });
    expect(await a!.admit([project])).toEqual({ admitted: true });
    await a!.release([project], { usd: 0.25, tokens: 0 });
    expect(await a!.admit([project])).toEqual({ admitted: false, budgetId: 'project', why: 'spent' });
  });

  it('warns once per window when a call reaches a soft limit, whichever runner makes it', async () => {
    const budget = counter('soft', { limitUsd: 1, softUsd: 0.8, limitTokens: 1000, softTokens: 800 });
    const other = counter('quiet', { limitUsd: 10, softUsd: 8 });
    await a!.seed(budget, { usd: 0.5, tokens: 0 });
    await a!.seed(other, { usd: 0, tokens: 0 });
    expect(await a!.release([budget, other], { usd: 0.2, tokens: 10 })).toEqual([]);
    // The call that reaches 80% is answered with the budget and what it spent; only that one.
    const [first, second] = await Promise.all([
      b!.release([other, budget], { usd: 0.1, tokens: 10 }),
      c!.release([budget], { usd: 0.1, tokens: 10 }),
    ]);
    const crossed = [...first, ...second];
    expect(crossed).toHaveLength(1);
    expect(crossed[0]).toMatchObject({ budgetId: 'soft', spentTokens: expect.any(Number) });
    expect(crossed[0]!.spentUsd).toBeGreaterThanOrEqual(0.8);
    // Past it, in dollars or tokens, it does not warn again in this window.
    expect(await a!.release([budget], { usd: 0.05, tokens: 900 })).toEqual([]);
    // A new window warns again, even when its seed is past the soft limit already.
    const tomorrow = { ...budget, window: 'd-next' };
    await a!.seed(tomorrow, { usd: 0.9, tokens: 0 });
    expect(await a!.release([tomorrow], { usd: 0, tokens: 0 })).toEqual([
      { budgetId: 'soft', spentUsd: 0.9, spentTokens: 0 },
    ]);
  });

  it('keeps what another runner seeded', async () => {
    const budget = counter('seeded');
    await a!.seed(budget, { usd: 0.3, tokens: 10 });
    await b!.seed(budget, { usd: 0.9, tokens: 99 });
    expect(await b!.spent(budget)).toEqual({ usd: 0.3, tokens: 10 });
  });

  it('lets runners racing on one budget overspend it by at most one call', async () => {
    const budget = counter('raced', { limitUsd: 1 });
    const cost = 0.07;
    await a!.seed(budget, { usd: 0, tokens: 0 });
    let calls = 0;
    const runner = async (counters: BudgetCounters) => {
      for (;;) {
        const admission = await counters.admit([budget]);
        if (!admission.admitted && admission.why === 'spent') return;
        if (!admission.admitted) {
          await sleep(1);
          continue;
        }
        calls += 1;
        await sleep(Math.random() * 5); // the call
        await counters.release([budget], { usd: cost, tokens: 0 });
      }
    };
    // Three runners, four calls each at a time.
    await Promise.all([a, b, c].flatMap((counters) => [0, 1, 2, 3].map(() => runner(counters!))));
    const spent = (await a!.spent(budget))!.usd;
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThanOrEqual(1 + cost + 1e-9);
    expect(calls).toBe(Math.round(spent / cost));
  });
});
