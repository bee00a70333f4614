import { BudgetRepository, createPrismaClient, DEFAULT_PROJECT_ID, migrate, type PrismaClient } from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

// The budgets a task's model calls count against (the model gateway asks at every call).
describe(BudgetRepository.name, () => {
  const { url, name } = freshDatabaseUrl('budgets');
  let prisma: PrismaClient;
  let budgets: BudgetRepository;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    budgets = new BudgetRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it("should find a task's budgets of every scope that covers it, named, and no one else's", async () => {
    await prisma.project.create({ data: { id: 'proj-other', slug: 'other', name: 'Other' } });
    const profile = await prisma.agentProfile.findFirstOrThrow({ where: { projectId: DEFAULT_PROJECT_ID } });
    const base = {
      period: 'day',
      limitUsd: 5,
      limitTokens: null,
      softPercent: 80,
      createdBy: 'test',
    } as const;
    const made = async (scope: string, projectId: string | null, target: string | null, extra = {}) =>
      budgets.create({ ...base, scope: scope as never, projectId, target, ...extra });
    const covering = [
      await made('installation', null, null),
      await made('project', DEFAULT_PROJECT_ID, null, { limitUsd: null, limitTokens: 9_000_000_000 }),
      await made('user', DEFAULT_PROJECT_ID, 'user-1'),
      await made('token', DEFAULT_PROJECT_ID, 'token-1'),
      await made('profile', DEFAULT_PROJECT_ID, profile.id),
      await made('workflow-run', DEFAULT_PROJECT_ID, 'run-1'),
      await made('task', DEFAULT_PROJECT_ID, 'task-1'),
    ];
    // Another project's, another user's (and the same user in another project), another token's,
    // another profile's, another run's, another task's.
    await made('project', 'proj-other', null);
    await made('user', DEFAULT_PROJECT_ID, 'user-2');
    await made('user', 'proj-other', 'user-1');
    await made('token', DEFAULT_PROJECT_ID, 'token-2');
    await made('profile', DEFAULT_PROJECT_ID, 'profile-2');
    await made('workflow-run', DEFAULT_PROJECT_ID, 'run-2');
    await made('task', DEFAULT_PROJECT_ID, 'task-2');

    const task = {
      id: 'task-1',
      projectId: DEFAULT_PROJECT_ID,
      profileId: profile.id,
      workflowRunId: 'run-1',
      userId: 'user-1',
      tokenId: 'token-1',
    };
    const found = await budgets.applicable(task);
    expect(found).toEqual(covering);
    expect(found[1]).toMatchObject({ projectSlug: 'default', limitTokens: 9_000_000_000, limitUsd: null });
    expect(found[4]).toMatchObject({ profileName: profile.name });
    // A task started by no user or token, outside a workflow: only what covers it.
    const plain = await budgets.applicable({ ...task, workflowRunId: null, userId: null, tokenId: null });
    expect(plain.map((budget) => budget.scope)).toEqual(['installation', 'project', 'profile', 'task']);
  });
});
