import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  ProjectTaskCounts,
  TaskRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

// A project's active counts (the project topic carries them with every status change, and every
// task created answers them) are kept by triggers as rows to add up and folded by the
// orchestrator: whatever the statements did, they are what counting the tasks says.
describe('project task counts', () => {
  const { url, name } = freshDatabaseUrl('counts');
  let prisma: PrismaClient;
  let tasks: TaskRepository;
  let state: TaskStateStore;
  let counts: ProjectTaskCounts;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    tasks = new TaskRepository(prisma);
    state = new TaskStateStore(prisma);
    counts = new ProjectTaskCounts(prisma);
    await prisma.project.create({ data: { id: 'other', slug: 'other', name: 'Other' } });
    await prisma.agentProfile.create({ data: { id: 'other-default', projectId: 'other', name: 'default' } });
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  // What counting the tasks themselves says.
  async function counted(projectId: string): Promise<{ queued: number; running: number }> {
    const [queued = 0, running = 0] = await Promise.all(
      (['QUEUED', 'RUNNING'] as const).map((status) => prisma.task.count({ where: { projectId, status } })),
    );
    return { queued, running };
  }

  async function expectTrue() {
    for (const [projectId, slug] of [
      [DEFAULT_PROJECT_ID, 'default'],
      ['other', 'other'],
    ] as const)
      expect(await tasks.activeCounts(slug)).toEqual(await counted(projectId));
    const [mine, other] = [await counted(DEFAULT_PROJECT_ID), await counted('other')];
    expect(await tasks.activeCountsIn([DEFAULT_PROJECT_ID, 'other'])).toEqual({
      queued: mine.queued + other.queued,
      running: mine.running + other.running,
    });
  }

  const create = (projectId: string, n: number) =>
    state.createChosen(
      Array.from({ length: n }, (_, index) => ({
        id: `t-${projectId}-${Date.now().toString(36)}-${index}-${Math.random().toString(36).slice(2, 8)}`,
        projectId,
        prompt: 'p',
      })),
    );

  it('counts what statements of every kind did, before and after folding', async () => {
    await create(DEFAULT_PROJECT_ID, 7);
    await create('other', 3);
    const created = await create(DEFAULT_PROJECT_ID, 1);
    // A creation answers the project's counts with itself.
    expect(created.counts.get('default')).toEqual({ queued: 8, running: 0 });
    await expectTrue();

    // Several tasks start in one statement, one finishes, one is cancelled while queued.
    await prisma.$executeRaw`UPDATE tasks SET status = 'RUNNING' WHERE id IN (SELECT id FROM tasks WHERE project_id = ${DEFAULT_PROJECT_ID} ORDER BY id LIMIT 4)`;
    await prisma.$executeRaw`UPDATE tasks SET status = 'COMPLETED' WHERE id = (SELECT id FROM tasks WHERE status = 'RUNNING' ORDER BY id LIMIT 1)`;
    await prisma.$executeRaw`UPDATE tasks SET status = 'CANCELLED' WHERE id = (SELECT id FROM tasks WHERE project_id = 'other' AND status = 'QUEUED' ORDER BY id LIMIT 1)`;
    // An update that changes no status (a heartbeat) changes no count.
    await prisma.$executeRaw`UPDATE tasks SET heartbeat_at = now() WHERE status = 'RUNNING'`;
    // A retried task goes back to QUEUED.
    await prisma.$executeRaw`UPDATE tasks SET status = 'QUEUED' WHERE id = (SELECT id FROM tasks WHERE status = 'RUNNING' ORDER BY id LIMIT 1)`;
    await expectTrue();

    await counts.fold();
    await expectTrue();
    const rows = await prisma.projectTaskCount.groupBy({ by: ['projectId'], _count: { _all: true } });
    expect(rows.every((row) => row._count._all === 1)).toBe(true);

    // Removed tasks (a project's removal cascades to them) leave the counts.
    await prisma.task.deleteMany({ where: { projectId: 'other' } });
    await expectTrue();
    await counts.fold();
    expect(await prisma.projectTaskCount.count({ where: { projectId: 'other' } })).toBe(0);
  });

  it('stays true while tasks are created and two orchestrators fold at once', async () => {
    await Promise.all([
      ...Array.from({ length: 8 }, () => create(DEFAULT_PROJECT_ID, 5)),
      ...Array.from({ length: 4 }, () => create('other', 2)),
      counts.fold(),
      counts.fold(),
      prisma.$executeRaw`UPDATE tasks SET status = 'RUNNING' WHERE status = 'QUEUED' AND project_id = 'other'`,
      counts.fold(),
    ]);
    await expectTrue();
    await Promise.all([counts.fold(), counts.fold()]);
    await expectTrue();
  });
});
