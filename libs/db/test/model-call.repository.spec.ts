import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  ModelCallRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

// Model calls as the runner's model gateway records them, and a task's usage summed from them.
describe(ModelCallRepository.name, () => {
  const { url, name } = freshDatabaseUrl('model_calls');
  let prisma: PrismaClient;
  let calls: ModelCallRepository;
  let tasks: TaskStateStore;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    calls = new ModelCallRepository(prisma);
    tasks = new TaskStateStore(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should keep every field of a call, priced or not, answered or not, and sum them per task', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'metered' });
    const startedAt = new Date('2026-12-07T10:00:00.000Z');
    const call = {
      taskId: task.id,
      attempt: 1,
      projectId: DEFAULT_PROJECT_ID,
      workflowRunId: null,
      provider: 'claude',
      model: 'claude-sonnet-4-5',
      credential: 'installation',
      status: 200,
      tokens: { inputTokens: 10, outputTokens: 20, cacheReadTokens: 30, cacheWriteTokens: 40 },
      costUsd: 0.125,
      priceVersion: '2026-11',
      startedAt,
      finishedAt: new Date(startedAt.getTime() + 1234.4),
    };
    await calls.record(call);
    await calls.record({ ...call, status: 0, tokens: null, costUsd: null, priceVersion: null, model: null });
    const stored = await prisma.modelCall.findMany({
      where: { taskId: task.id },
      orderBy: { status: 'desc' },
    });
    expect(stored).toEqual([
      expect.objectContaining({
        model: 'claude-sonnet-4-5',
        status: 200,
        inputTokens: 10,
        outputTokens: 20,
        cacheReadTokens: 30,
        cacheWriteTokens: 40,
        costUsd: 0.125,
        priceVersion: '2026-11',
        latencyMs: 1234,
        startedAt,
        finishedAt: new Date(startedAt.getTime() + 1234),
      }),
      expect.objectContaining({ model: null, status: 0, inputTokens: null, costUsd: null, latencyMs: 1234 }),
    ]);
    expect(new Set(stored.map((row) => row.id)).size).toBe(2);
    expect(await calls.usageOfTask(task.id)).toEqual({
      taskId: task.id,
      calls: 2,
      inputTokens: 10,
      outputTokens: 20,
      cacheReadTokens: 30,
      cacheWriteTokens: 40,
      costUsd: 0.125,
      unpricedCalls: 1,
    });
  });
});
