import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareSandboxHost, sandboxCommand } from '@hangar/sandbox';
import { processesWorkingIn } from '../src';
import { waitFor } from './support/processes';

// A sandboxed process sees its workspace at /workspace: the runner (reaping what an earlier
// attempt left) and the tests (no agent left behind) still find it by the host's path.
describe(processesWorkingIn.name, () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'hangar-working-in-'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('should find a process working below a workspace mounted elsewhere in its sandbox', async () => {
    const workspace = path.join(root, 'task-a');
    const other = path.join(root, 'task-b');
    mkdirSync(path.join(workspace, 'src', 'deep'), { recursive: true });
    mkdirSync(other);
    const host = prepareSandboxHost({ dir: path.join(root, 'host') });
    const command = sandboxCommand(
      { command: '/bin/sleep', args: ['30'], env: {} },
      { workspace, cwd: '/workspace/src/deep' },
      host,
    );
    const child = spawn(command.command, command.args, { env: command.env, stdio: 'ignore' });
    try {
      await waitFor(() => processesWorkingIn(workspace).length > 0, 10_000, 'the sandboxed sleep');
      // The folder of all workspaces holds the same processes, though the sandbox has no view
      // of it. By pid: a process's state (running, sleeping) changes between two reads.
      const pids = (dir: string) => processesWorkingIn(dir).map((found) => found.pid);
      await waitFor(
        () => pids(root).length > 0 && pids(root).join() === pids(workspace).join(),
        10_000,
        'the folder of all workspaces to show the sandbox’s processes',
      );
      expect(pids(other)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
    await waitFor(() => processesWorkingIn(workspace).length === 0, 10_000, 'the sleep to end with bwrap');
  });
});
