import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  TaskDiffRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

// A task's diff as the runner records it at an attempt's end (again at a retry's).
describe(TaskDiffRepository.name, () => {
  const { url, name } = freshDatabaseUrl('task_diffs');
  let prisma: PrismaClient;
  let diffs: TaskDiffRepository;
  let tasks: TaskStateStore;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    diffs = new TaskDiffRepository(prisma);
    tasks = new TaskStateStore(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it("should keep a task's last diff, every field, and tell an unknown task from one without a diff", async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'diffed' });
    expect(await diffs.get(task.id)).toBeNull();
    await expect(diffs.get('no-such-task')).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    const first = {
      taskId: task.id,
      unifiedDiff: "--- a/x\n+++ b/x\n+it's\n",
      truncated: false,
      files: [{ path: 'x', status: 'modified' as const, additions: 1, deletions: 0 }],
      linesAdded: 1,
      linesRemoved: 0,
      commit: null,
    };
    await diffs.save(first);
    expect(await diffs.get(task.id)).toEqual(first);
    const second = { ...first, unifiedDiff: '', truncated: true, files: [], linesAdded: 0, commit: 'abc123' };
    await diffs.save(second);
    expect(await diffs.get(task.id)).toEqual(second);
  });
});
