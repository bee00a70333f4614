import { createHash, randomUUID } from 'node:crypto';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  WebhookDeliveryRepository,
  type PrismaClient,
} from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

const DAY_MS = 24 * 3_600_000;

describe(WebhookDeliveryRepository.name, () => {
  const { url, name } = freshDatabaseUrl('webhook_delivery_repo');
  let prisma: PrismaClient;
  let deliveries: WebhookDeliveryRepository;
  const source = {
    source: 'static:github',
    configId: null,
    projectId: DEFAULT_PROJECT_ID,
    provider: 'github' as const,
  };

  const signedBody = () => {
    const body = JSON.stringify({ action: 'created', comment: { body: `@hangar ${randomUUID()}` } });
    return {
      payload: JSON.parse(body) as Record<string, unknown>,
      bodySha256: createHash('sha256').update(body).digest('hex'),
    };
  };

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    deliveries = new WebhookDeliveryRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should record one delivery when the same signed body comes under many ids at the same instant', async () => {
    const body = signedBody();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        deliveries.accept(source, {
          deliveryId: randomUUID(),
          event: 'issue_comment',
          ...body,
          replayWindowMs: DAY_MS,
        }),
      ),
    );
    const recorded = answers.filter((answer) => answer.kind === 'new');
    expect(recorded).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.id))).toEqual(new Set([recorded[0]!.id]));
    const row = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: recorded[0]!.id } });
    expect(row.duplicates).toBe(7);
    expect(await prisma.webhookDelivery.count({ where: { bodySha256: body.bodySha256 } })).toBe(1);
  });

  it('should take the same body for a new delivery once the replay window has passed', async () => {
    const body = signedBody();
    const first = await deliveries.accept(source, {
      deliveryId: randomUUID(),
      event: 'issue_comment',
      ...body,
      replayWindowMs: DAY_MS,
    });
    await prisma.webhookDelivery.update({
      where: { id: first.id },
      data: { receivedAt: new Date(Date.now() - DAY_MS - 60_000) },
    });
    const later = await deliveries.accept(source, {
      deliveryId: randomUUID(),
      event: 'issue_comment',
      ...body,
      replayWindowMs: DAY_MS,
    });
    expect(later.kind).toBe('new');
    expect(later.id).not.toBe(first.id);
  });

  it('should count the same body at another receiver as a delivery of its own', async () => {
    const body = signedBody();
    const here = await deliveries.accept(source, {
      deliveryId: randomUUID(),
      event: 'issue_comment',
      ...body,
      replayWindowMs: DAY_MS,
    });
    const there = await deliveries.accept(
      { ...source, source: 'static:jira', provider: 'jira' },
      { deliveryId: randomUUID(), event: 'comment_created', ...body, replayWindowMs: DAY_MS },
    );
    expect([here.kind, there.kind]).toEqual(['new', 'new']);
  });
});
