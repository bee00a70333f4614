import { HangarError, type Provider } from '@hangar/contracts';
import { createPrismaClient, DEFAULT_PROJECT_ID, ProfileRepository, type PrismaClient } from '@hangar/db';
import { createRedis, RunnerRegistry } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { RoutingPolicy } from '../src/modules/runners/routing-policy';

// The gateway's refusal of a task no runner pool could take (docs/routing.md), over the real
// registry in Redis and the real profiles in PostgreSQL. It remembers the pools it read for a
// moment; these tests show that this never refuses a task a pool registered since could take.
describe('RoutingPolicy', () => {
  const prefix = uniqueRedisPrefix('routing-policy');
  const redis = createRedis(redisUrl());
  const registry = new RunnerRegistry(redis, { prefix });
  let database: TestDatabase;
  let prisma: PrismaClient;
  let policy: RoutingPolicy;

  async function register(pool: string, labels: string[], providers: Provider[]) {
    await registry.record({
      id: `${pool}-runner`,
      pool,
      executor: 'process',
      labels: [...labels, `pool=${pool}`, 'executor=process'].sort(),
      providers,
      slots: 2,
      running: 0,
      seenAt: Date.now(),
      intervalMs: 5000,
    });
  }

  const refusal = (profile: string, requires: string[]) =>
    policy.check(DEFAULT_PROJECT_ID, [{ profile, requires, field: 'requires' }]).then(
      () => null,
      (error: unknown) => error,
    );

  beforeAll(async () => {
    database = await createTestDatabase('routing-policy');
    prisma = createPrismaClient(database.url);
    const profiles = new ProfileRepository(prisma);
    await profiles.create(DEFAULT_PROJECT_ID, { name: 'gem', provider: 'gemini' });
    policy = new RoutingPolicy(registry, profiles);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await prisma.$disconnect();
    await database.drop();
  });

  it('refuses what no pool offers, naming the field, and takes a pool that registered since at once', async () => {
    await register('general', [], ['claude', 'codex', 'gemini']);
    expect(await refusal('default', [])).toBeNull();

    const refused = await refusal('default', ['gpu']);
    expect(refused).toBeInstanceOf(HangarError);
    expect((refused as HangarError).code).toBe('UNROUTABLE');
    expect((refused as HangarError).message).toMatch(/^requires: no runner offers label gpu/);

    // The pools read a moment ago are not the last word on a refusal.
    await register('gpus', ['gpu'], ['claude']);
    expect(await refusal('default', ['gpu'])).toBeNull();
  });

  it("refuses a task whose profile's CLI the labelled pools do not offer, and only then", async () => {
    // The gpu pool runs Claude Code only: a gemini profile's task with that label cannot run.
    const refused = await refusal('gem', ['gpu']);
    expect((refused as HangarError).code).toBe('UNROUTABLE');
    expect((refused as HangarError).message).toContain('the gemini CLI');
    expect(await refusal('default', ['gpu'])).toBeNull();

    await register('gpus-gemini', ['gpu'], ['gemini']);
    expect(await refusal('gem', ['gpu'])).toBeNull();
  });

  it("leaves an unknown profile to the task's creation to refuse", async () => {
    await register('tiny', ['tiny'], ['codex']);
    expect(await refusal('nonexistent', ['tiny'])).toBeNull();
  });
});
