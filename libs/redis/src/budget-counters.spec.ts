import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BudgetCounter, BudgetCounters, type CallReserve } from './budget-counters';
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

  // A call whose worst is `usd` (and `tokens`), all of it input.
  const worst = (usd: number, tokens = 0): CallReserve => ({
    inputUsd: usd,
    inputTokens: tokens,
    outputUsdPerToken: 0,
    outputFloorTokens: 0,
    outputCapTokens: 0,
  });
  // Admitted, or the test fails; answers its reservations.
  const admitted = async (counters: BudgetCounters, budgets: BudgetCounter[], reserve: CallReserve) => {
    const admission = await counters.admit(budgets, reserve);
    if (!admission.admitted) throw new Error(`refused: ${JSON.stringify(admission)}`);
    return admission.reservations;
  };

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
    expect(await a!.admit([project, task], worst(0.1))).toEqual({
      admitted: false,
      budgetId: 'task',
      why: 'unseeded',
    });
    await a!.seed(task, { usd: 0, tokens: 0 });
    const reserved = await admitted(a!, [project, task], worst(0.1, 50));
    expect(reserved).toEqual([
      { usd: 0.1, tokens: 50 },
      { usd: 0.1, tokens: 50 },
    ]);
    await a!.release([project, task], reserved, { usd: 0.25, tokens: 120, outputTokens: 0 });
    expect(await a!.spent(project)).toEqual({ usd: 0.75, tokens: 120 });
    // The task's tokens are spent: refused, and nothing counted in flight.
    expect(await a!.admit([project, task], worst(0.1))).toEqual({
      admitted: false,
      budgetId: 'task',
      why: 'spent',
    });
    const alone = await admitted(a!, [project], worst(0.1));
    await a!.release([project], alone, { usd: 0.25, tokens: 0, outputTokens: 0 });
    expect(await a!.admit([project], worst(0.1))).toEqual({
      admitted: false,
      budgetId: 'project',
      why: 'spent',
    });
  });

  it('holds a call back while the calls in flight and it may cost more, at their worst, than is left', async () => {
    const budget = counter('worst', { limitUsd: 1 });
    await a!.seed(budget, { usd: 0, tokens: 0 });
    // Alone, a call is admitted however costly it may be: it alone may cross the limit.
    const first = await admitted(a!, [budget], worst(0.6));
    expect(await b!.admit([budget], worst(0.5))).toEqual({ admitted: false, budgetId: 'worst', why: 'busy' });
    const second = await admitted(b!, [budget], worst(0.3));
    await a!.release([budget], first, { usd: 0.1, tokens: 0, outputTokens: 0 });
    // The first's reservation is given back: what it spent and the second's worst leave 0.6.
    const third = await admitted(c!, [budget], worst(0.5));
    await b!.release([budget], second, { usd: 0.1, tokens: 0, outputTokens: 0 });
    await c!.release([budget], third, { usd: 0.1, tokens: 0, outputTokens: 0 });
    expect((await a!.spent(budget))!.usd).toBeCloseTo(0.3, 12);
  });

  it("reserves a call's output as the most any call of the window wrote, between the floor and its cap", async () => {
    const budget = counter('output', { limitUsd: 100, limitTokens: 1_000_000 });
    await a!.seed(budget, { usd: 0, tokens: 0 });
    const reserve = {
      ...worst(0.5, 1000),
      outputUsdPerToken: 0.001,
      outputFloorTokens: 100,
      outputCapTokens: 4000,
    };
    const first = await admitted(a!, [budget], reserve);
    expect(first).toEqual([{ usd: 0.5 + 100 * 0.001, tokens: 1100 }]);
    await a!.release([budget], first, { usd: 1, tokens: 3000, outputTokens: 2500 });
    expect(await admitted(a!, [budget], reserve)).toEqual([{ usd: 0.5 + 2500 * 0.001, tokens: 3500 }]);
    expect(await admitted(a!, [budget], { ...reserve, outputCapTokens: 1000 })).toEqual([
      { usd: 0.5 + 1000 * 0.001, tokens: 2000 },
    ]);
  });

  it('warns once per window when a call reaches a soft limit, whichever runner makes it', async () => {
    const budget = counter('soft', { limitUsd: 1, softUsd: 0.8, limitTokens: 1000, softTokens: 800 });
    const other = counter('quiet', { limitUsd: 10, softUsd: 8 });
    await a!.seed(budget, { usd: 0.5, tokens: 0 });
    await a!.seed(other, { usd: 0, tokens: 0 });
    const spend = (usd: number, tokens: number) => ({ usd, tokens, outputTokens: 0 });
    expect(await a!.release([budget, other], [], spend(0.2, 10))).toEqual([]);
    // The call that reaches 80% is answered with the budget and what it spent; only that one.
    const [first, second] = await Promise.all([
      b!.release([other, budget], [], spend(0.1, 10)),
      c!.release([budget], [], spend(0.1, 10)),
    ]);
    const crossed = [...first, ...second];
    expect(crossed).toHaveLength(1);
    expect(crossed[0]).toMatchObject({ budgetId: 'soft', spentTokens: expect.any(Number) });
    expect(crossed[0]!.spentUsd).toBeGreaterThanOrEqual(0.8);
    // Past it, in dollars or tokens, it does not warn again in this window.
    expect(await a!.release([budget], [], spend(0.05, 900))).toEqual([]);
    // A new window warns again, even when its seed is past the soft limit already.
    const tomorrow = { ...budget, window: 'd-next' };
    await a!.seed(tomorrow, { usd: 0.9, tokens: 0 });
    expect(await a!.release([tomorrow], [], spend(0, 0))).toEqual([
      { budgetId: 'soft', spentUsd: 0.9, spentTokens: 0 },
    ]);
  });

  it('keeps what another runner seeded', async () => {
    const budget = counter('seeded');
    await a!.seed(budget, { usd: 0.3, tokens: 10 });
    await b!.seed(budget, { usd: 0.9, tokens: 99 });
    expect(await b!.spent(budget)).toEqual({ usd: 0.3, tokens: 10 });
  });

  it('lets runners racing on one budget overspend it by at most one call, the cheap ones first', async () => {
    const budget = counter('raced', { limitUsd: 1 });
    await a!.seed(budget, { usd: 0, tokens: 0 });
    let calls = 0;
    let costliest = 0;
    const runner = async (counters: BudgetCounters) => {
      for (;;) {
        // Calls get costlier, as an agent's do while its conversation grows; none costs more
        // than its worst.
        const cost = 0.01 + 0.01 * calls;
        const admission = await counters.admit([budget], worst(cost));
        if (!admission.admitted && admission.why === 'spent') return;
        if (!admission.admitted) {
          await sleep(1);
          continue;
        }
        calls += 1;
        costliest = Math.max(costliest, cost);
        await sleep(Math.random() * 5); // the call
        await counters.release([budget], admission.reservations, { usd: cost, tokens: 0, outputTokens: 0 });
      }
    };
    // Three runners, four calls each at a time.
    await Promise.all([a, b, c].flatMap((counters) => [0, 1, 2, 3].map(() => runner(counters!))));
    const spent = (await a!.spent(budget))!.usd;
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThanOrEqual(1 + costliest + 1e-9);
  });
});
