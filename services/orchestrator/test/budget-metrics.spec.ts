import type { INestApplicationContext } from '@nestjs/common';
import type { Registry } from 'prom-client';
import {
  BudgetRepository,
  budgetWindow,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  type PrismaClient,
} from '@hangar/db';
import { METRICS_REGISTRY } from '@hangar/observability';
import { BudgetCounters, createRedis } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { startOrchestrator } from './support';

// The orchestrator's budget series, read from the real PostgreSQL and Redis when scraped.
describe('budget metrics', () => {
  const prefix = uniqueRedisPrefix('budget-metrics');
  const redis = createRedis(redisUrl());
  let database: TestDatabase;
  let prisma: PrismaClient;
  let app: INestApplicationContext;

  beforeAll(async () => {
    database = await createTestDatabase('budget_metrics');
    prisma = createPrismaClient(database.url);
    app = await startOrchestrator(database.url, prefix);
  });

  afterAll(async () => {
    await app.close();
    await redis.quit();
    await prisma.$disconnect();
    await database.drop();
  });

  it("exports each budget's limits and what it spent in its period now", async () => {
    const budgets = new BudgetRepository(prisma);
    const project = await budgets.create({
      scope: 'project',
      projectId: DEFAULT_PROJECT_ID,
      target: null,
      period: 'day',
      limitUsd: 5,
      limitTokens: null,
      softPercent: 80,
      createdBy: 'test',
    });
    const profileId = (
      await prisma.agentProfile.findFirstOrThrow({ where: { projectId: DEFAULT_PROJECT_ID } })
    ).id;
    const profile = await budgets.create({
      scope: 'profile',
      projectId: DEFAULT_PROJECT_ID,
      target: profileId,
      period: 'total',
      limitUsd: null,
      limitTokens: 1000,
      softPercent: 80,
      createdBy: 'test',
    });
    // Today's counter of the project budget, as the model gateway charged it.
    await new BudgetCounters(redis, { prefix }).seed(
      {
        budgetId: project.id,
        window: budgetWindow('day').key,
        limitUsd: 5,
        limitTokens: null,
        softUsd: 4,
        softTokens: null,
        ttlSeconds: 60,
      },
      { usd: 1.25, tokens: 4000 },
    );

    const text = await app.get<Registry>(METRICS_REGISTRY).metrics();
    const line = (name: string, budget: string) =>
      text.split('\n').find((entry) => entry.startsWith(`${name}{`) && entry.includes(`budget="${budget}"`));
    expect(line('hangar_budget_spent_usd', project.id)).toMatch(
      new RegExp(`scope="project",project="default",target="",period="day".* 1\\.25$`),
    );
    expect(line('hangar_budget_limit_usd', project.id)).toMatch(/ 5$/);
    expect(line('hangar_budget_spent_tokens', project.id)).toMatch(/ 4000$/);
    expect(line('hangar_budget_limit_tokens', project.id)).toBeUndefined();
    // No counter yet: what PostgreSQL recorded (nothing).
    expect(line('hangar_budget_spent_usd', profile.id)).toMatch(/target="default",period="total".* 0$/);
    expect(line('hangar_budget_limit_tokens', profile.id)).toMatch(/ 1000$/);
    expect(line('hangar_budget_limit_usd', profile.id)).toBeUndefined();
  });
});
