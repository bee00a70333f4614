import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { RunnersOverview } from '@hangar/contracts';
import { REPO_ROOT, ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, request } from './support';

// RUNNER_SANDBOX: a runner that cannot make sandboxes refuses to start rather than run agents
// unprotected; one told to run them unsandboxed says so on every task and to whoever looks.
jest.setTimeout(120_000);

describe('RUNNER_SANDBOX', () => {
  let stack: ServiceStack | undefined;

  afterEach(async () => {
    await stack?.dispose();
    stack = undefined;
  });

  it('should refuse to start, in one line naming the setting, where bubblewrap cannot make namespaces', async () => {
    stack = await ServiceStack.create('sandbox-refused');
    // The runner in a user namespace that may make no more: what a container runtime that
    // forbids them does, with the same kernel refusal.
    const runner = spawn(
      'bwrap',
      [
        '--dev-bind',
        '/',
        '/',
        '--unshare-user',
        '--disable-userns',
        '--',
        process.execPath,
        path.join(REPO_ROOT, 'services/agent-runner/dist/main.js'),
      ],
      { env: stack.environment(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    runner.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // 'close': after the exit and the last of its output.
    const [code] = (await once(runner, 'close')) as [number | null];
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^agent-runner: RUNNER_SANDBOX=bwrap: bubblewrap cannot make a sandbox here: bwrap: .*namespace.*RUNNER_SANDBOX=off/,
    );
  });

  it('should run agents unsandboxed when told, warning on every task and in /api/v1/runners', async () => {
    stack = await ServiceStack.create('sandbox-off', { RUNNER_SANDBOX: 'off' });
    await stack.start();
    const task = await createTask(stack, { prompt: 'wait', scenario: 'slow' });
    const follower = follow(stack, task.id);
    const warning = await follower.waitFor(
      (event) => event.type === 'stderr' && event.data.line.includes('RUNNER_SANDBOX=off'),
    );
    expect(warning.data).toEqual({
      line: 'hangar: this runner runs agents without a sandbox (RUNNER_SANDBOX=off): the agent can reach everything the runner can',
    });
    await follower.waitFor((event) => event.type === 'tool.use');
    const overview = (await request(stack, 'GET', '/api/v1/runners')).body as RunnersOverview;
    expect(overview.runners).toEqual([
      expect.objectContaining({ sandbox: 'none', running: [expect.objectContaining({ id: task.id })] }),
    ]);
    expect((await getTask(stack, task.id)).sandbox).toBe('none');
    await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    await follower.finished;
    follower.close();
  });
});
