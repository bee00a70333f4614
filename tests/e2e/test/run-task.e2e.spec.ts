import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask } from './support';

// The single-task entrypoint a Kubernetes Job's pod runs: one attempt of one task in its own
// process, with the real Claude Code CLI against the scripted model, then exit.
describe('run-task.js (one task attempt per process)', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('run_task');
    // No agent-runner: nothing takes the task from the queue but run-task.js.
    await stack.start(['scripted-model', 'gateway', 'websocket-pool', 'orchestrator']);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  function runTask(args: string[], env: Record<string, string> = {}) {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'services/agent-runner/dist/run-task.js'), ...args],
      { cwd: stack.dataDir, env: stack.environment({ RUNNER_ID: 'job-test', ...env }) },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    return new Promise<{ code: number | null; output: string }>((resolve) =>
      child.once('exit', (code) => resolve({ code, output })),
    );
  }

  it('should run the task to its end, write its files and events, and exit 0', async () => {
    const task = await createTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    const follower = follow(stack, task.id, 0);
    await follower.ack;
    const run = await runTask([task.id], { HANGAR_TASK_ATTEMPT: '1' });
    expect(run).toEqual({ code: 0, output: expect.any(String) });
    const events = await follower.finished;
    follower.close();
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['tool.use', 'result']));
    const done = await getTask(stack, task.id);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    expect(readFileSync(path.join(done.workspace!, 'hello.txt'), 'utf8')).toBe('hello from hangar\n');

    // The same attempt again (a Job started twice): nothing is run or changed.
    const again = await runTask([task.id], { HANGAR_TASK_ATTEMPT: '1' });
    expect(again.code).toBe(3);
    expect(again.output).toContain('not waiting for attempt 1');
    expect(await getTask(stack, task.id)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
  });

  it('should refuse a missing or malformed task id with a usage line', async () => {
    for (const args of [[], ['not a task id!']]) {
      const run = await runTask(args);
      expect(run.code).toBe(2);
      expect(run.output).toContain('usage: node services/agent-runner/dist/run-task.js <task id>');
    }
    const run = await runTask(['abc'], { HANGAR_TASK_ATTEMPT: 'zero' });
    expect(run.code).toBe(2);
  });
});
