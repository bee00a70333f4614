import {
  createPrismaClient,
  IdempotencyRepository,
  IDEMPOTENCY_WINDOW_MS,
  migrate,
  type PrismaClient,
} from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe(IdempotencyRepository.name, () => {
  const { url, name } = freshDatabaseUrl('idempotency');
  let prisma: PrismaClient;
  let keys: IdempotencyRepository;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    keys = new IdempotencyRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should never store a secret shown once, and replay the answer without it, naming it', async () => {
    expect(await keys.claim('user:u1 POST /api/v1/tokens', 'k1', 'h1')).toEqual({ kind: 'new' });
    const answer = { id: 'tok_1', name: 'ci', prefix: 'hgr_abcdefgh', token: 'hgr_' + 'S'.repeat(40) };
    await keys.complete('user:u1 POST /api/v1/tokens', 'k1', 201, answer);

    const rows = await prisma.idempotencyKey.findMany();
    expect(JSON.stringify(rows)).not.toContain('SSSS');
    expect(await keys.claim('user:u1 POST /api/v1/tokens', 'k1', 'h1')).toEqual({
      kind: 'replay',
      status: 201,
      body: { id: 'tok_1', name: 'ci', prefix: 'hgr_abcdefgh' },
      withheld: ['token'],
    });

    // An answer without secrets comes back whole.
    await keys.claim('user:u1 POST /api/v1/tasks', 'k2', 'h2');
    await keys.complete('user:u1 POST /api/v1/tasks', 'k2', 201, { id: 't1', prompt: 'p' });
    expect(await keys.claim('user:u1 POST /api/v1/tasks', 'k2', 'h2')).toMatchObject({
      body: { id: 't1', prompt: 'p' },
      withheld: [],
    });
  });

  it("should forget every caller's answers once they are older than the window", async () => {
    const now = Date.now();
    await prisma.idempotencyKey.create({
      data: {
        scope: 'user:u2 POST /api/v1/webhooks',
        key: 'old',
        requestHash: 'h',
        status: 201,
        responseBody: { id: 'w1' },
        createdAt: new Date(now - IDEMPOTENCY_WINDOW_MS - 1000),
      },
    });
    await keys.claim('user:u3 POST /api/v1/tasks', 'fresh', 'h', new Date(now));
    const left = await prisma.idempotencyKey.findMany({ where: { key: 'old' } });
    expect(left).toEqual([]);
  });
});
