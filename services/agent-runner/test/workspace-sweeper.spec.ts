import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPrismaClient, DEFAULT_PROJECT_ID, TaskRepository, type PrismaClient } from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { createTestDatabase, type TestDatabase } from '@hangar/testing';
import { prepareWorkspace } from '@hangar/workspaces';
import type { AgentRunnerConfig } from '../src/config';
import type { TaskRunService } from '../src/modules/runner/task-run.service';
import { WorkspaceSweeperService } from '../src/modules/runner/workspace-sweeper.service';

describe(WorkspaceSweeperService.name, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hangar-sweep-'));
  let database: TestDatabase;
  let prisma: PrismaClient;

  beforeAll(async () => {
    database = await createTestDatabase('workspace-sweeper');
    prisma = createPrismaClient(database.url);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await database.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('should remove finished workspaces past retention and keep running tasks, awaited workspaces and conversations', async () => {
    const state = new TaskStateStore(prisma);
    // Two finished tasks' workspaces: a queued task is to work in the second one.
    const finished = await prepareWorkspace({ root, taskId: 'finished-task' });
    const owner = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'the earlier step' });
    const awaited = await prepareWorkspace({ root, taskId: owner.id });
    await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'the later step', workspaceOf: owner.id });
    // A finished task that worked in a workspace does not keep it.
    const done = await state.create({
      projectId: DEFAULT_PROJECT_ID,
      prompt: 'done',
      workspaceOf: 'finished-task',
    });
    await state.cancelQueued(done.id);
    const running = await prepareWorkspace({ root, taskId: 'running-task' });
    const conversation = await prepareWorkspace({ root: path.join(root, 'conversations'), taskId: 'chat-1' });
    // Only the runner's list of running tasks is needed from it here.
    const runs = { runningTaskIds: () => ['running-task'] } as unknown as TaskRunService;
    const sweeper = new WorkspaceSweeperService(runs, new TaskRepository(prisma), {
      WORKSPACE_ROOT: root,
      WORKSPACE_RETENTION_HOURS: 24,
    } as AgentRunnerConfig);

    expect(await sweeper.sweep()).toEqual([]);
    const dayAndAHourLater = Date.now() + 25 * 3600 * 1000;
    expect(await sweeper.sweep(dayAndAHourLater)).toEqual([finished.dir]);
    expect(existsSync(finished.dir)).toBe(false);
    expect(existsSync(awaited.dir)).toBe(true);
    expect(existsSync(running.dir)).toBe(true);
    expect(existsSync(conversation.dir)).toBe(true);
  });
});
