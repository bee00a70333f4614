import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareWorkspace } from '@hangar/workspaces';
import type { AgentRunnerConfig } from '../src/config';
import type { TaskRunService } from '../src/modules/runner/task-run.service';
import { WorkspaceSweeperService } from '../src/modules/runner/workspace-sweeper.service';

describe(WorkspaceSweeperService.name, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hangar-sweep-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('should remove finished workspaces past retention and keep running tasks and conversations', async () => {
    const finished = await prepareWorkspace({ root, taskId: 'finished-task' });
    const running = await prepareWorkspace({ root, taskId: 'running-task' });
    const conversation = await prepareWorkspace({ root: path.join(root, 'conversations'), taskId: 'chat-1' });
    // Only the runner's list of running tasks is needed from it here.
    const runs = { runningTaskIds: () => ['running-task'] } as unknown as TaskRunService;
    const sweeper = new WorkspaceSweeperService(runs, {
      WORKSPACE_ROOT: root,
      WORKSPACE_RETENTION_HOURS: 24,
    } as AgentRunnerConfig);

    expect(await sweeper.sweep()).toEqual([]);
    const dayAndAHourLater = Date.now() + 25 * 3600 * 1000;
    expect(await sweeper.sweep(dayAndAHourLater)).toEqual([finished.dir]);
    expect(existsSync(finished.dir)).toBe(false);
    expect(existsSync(running.dir)).toBe(true);
    expect(existsSync(conversation.dir)).toBe(true);
  });
});
