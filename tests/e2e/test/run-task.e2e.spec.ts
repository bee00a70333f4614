import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AttemptTokenRepository, createPrismaClient, type PrismaClient } from '@hangar/db';
import { freePort, REPO_ROOT, ServiceStack } from '@hangar/testing';
import { startFakeKubeApi, type FakeKubeApi } from '@hangar/testing/kubernetes';
import { createTask, follow, getTask } from './support';

// The single-task entrypoint a Kubernetes Job's pod runs: one attempt of one task in its own
// process, with the real Claude Code CLI against the scripted model, then exit. It is given what
// a task pod is given — the runner's task API URL and a token file — and nothing else: no
// database, Redis or model. The runner is a kubernetes executor (the one that serves the task
// API); no orchestrator runs, so no Job is made and the test starts run-task.js itself.
describe('run-task.js (one task attempt per process)', () => {
  let stack: ServiceStack;
  let fake: FakeKubeApi;
  let prisma: PrismaClient;
  let taskApiUrl: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('run_task');
    prisma = createPrismaClient(stack.database.url);
    fake = await startFakeKubeApi();
    const kubeconfig = path.join(stack.dataDir, 'kubeconfig');
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
    const port = await freePort();
    taskApiUrl = `http://127.0.0.1:${port}`;
    await stack.start(['scripted-model', 'gateway', 'websocket-pool']);
    await stack.start(['agent-runner'], {
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_KUBECONFIG: kubeconfig,
      RUNNER_JOB_IMAGE: 'ghcr.io/hangar-dev/hangar-agent-runner:e2e',
      RUNNER_TASK_API_PORT: String(port),
      RUNNER_TASK_API_URL: taskApiUrl,
    });
  });

  afterAll(async () => {
    await stack?.dispose();
    await fake?.close();
    await prisma?.$disconnect();
  });

  // The token the controller would put in the attempt's Job Secret.
  async function tokenFile(taskId: string, attempt: number): Promise<string> {
    const token = await new AttemptTokenRepository(prisma).issue({
      taskId,
      attempt,
      provider: 'claude',
      expiresAt: new Date(Date.now() + 600_000),
    });
    const file = path.join(stack.dataDir, `token-${taskId}-${attempt}`);
    await writeFile(file, `${token}\n`, { mode: 0o400 });
    return file;
  }

  function runTask(args: string[], env: Record<string, string> = {}) {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'services/agent-runner/dist/run-task.js'), ...args],
      {
        cwd: stack.dataDir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: path.join(stack.dataDir, 'pod-home'),
          RUNNER_TASK_API_URL: taskApiUrl,
          WORKSPACE_ROOT: stack.workspaceRoot,
          RUNNER_HOME_ROOT: path.join(stack.dataDir, 'homes'),
          ...env,
        },
      },
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
    const token = await tokenFile(task.id, 1);
    const run = await runTask([task.id], { HANGAR_TASK_ATTEMPT: '1', HANGAR_TASK_TOKEN_FILE: token });
    expect(run).toEqual({ code: 0, output: expect.any(String) });
    const events = await follower.finished;
    follower.close();
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['tool.use', 'result']));
    const done = await getTask(stack, task.id);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 1, sandbox: 'pod' });
    expect(readFileSync(path.join(done.workspace!, 'hello.txt'), 'utf8')).toBe('hello from hangar\n');

    // The same attempt again (a Job started twice): its token ended with it; nothing is run or changed.
    const again = await runTask([task.id], { HANGAR_TASK_ATTEMPT: '1', HANGAR_TASK_TOKEN_FILE: token });
    expect(again.code).toBe(3);
    expect(again.output).toContain('not waiting for attempt 1');
    expect(await getTask(stack, task.id)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
  });

  it("should claim nothing with another attempt's token, and exit 3", async () => {
    const task = await createTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    const run = await runTask([task.id], {
      HANGAR_TASK_ATTEMPT: '2',
      HANGAR_TASK_TOKEN_FILE: await tokenFile(task.id, 2),
    });
    expect(run.code).toBe(3);
    expect(await getTask(stack, task.id)).toMatchObject({ status: 'QUEUED', attempts: 0 });
  });

  it('should refuse a missing or malformed task id with a usage line, and a missing setting by name', async () => {
    for (const args of [[], ['not a task id!']]) {
      const run = await runTask(args);
      expect(run.code).toBe(2);
      expect(run.output).toContain('usage: node services/agent-runner/dist/run-task.js <task id>');
    }
    expect((await runTask(['abc'], { HANGAR_TASK_ATTEMPT: 'zero' })).code).toBe(2);
    const unconfigured = await runTask(['abc']);
    expect(unconfigured.code).toBe(1);
    expect(unconfigured.output).toContain('run-task: config: HANGAR_TASK_TOKEN_FILE');
  });
});
