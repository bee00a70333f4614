import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type ScriptedModel, startScriptedModel } from '@hangar/agents';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  type NewTask,
  TaskDiffRepository,
  TaskRepository,
  type PrismaClient,
} from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { AppModule } from '../src/app.module';
import { AgentRunnerConfigSchema, type AgentRunnerConfig } from '../src/config';
import { SpareSandboxes } from '../src/modules/runner/spare-sandboxes';
import { TaskRunService } from '../src/modules/runner/task-run.service';
import { AgentSandbox } from '../src/modules/sandbox/agent-sandbox';

// A runner with the process executor running tasks' attempts with the real Claude Code CLI in its
// sandbox, against the scripted model, on the real PostgreSQL and Redis: what a workflow's steps
// need of it (structured output, one step working in an earlier step's workspace).
jest.setTimeout(60_000);

const OUTPUT_SCHEMA = {
  type: 'object',
  properties: {
    verdict: { type: 'string', enum: ['approve', 'request-changes'] },
    comments: { type: 'array', items: { type: 'string' } },
  },
  required: ['verdict', 'comments'],
};

describe('task runs', () => {
  const prefix = uniqueRedisPrefix('task-run');
  let database: TestDatabase;
  let prisma: PrismaClient;
  let tasks: TaskRepository;
  let state: TaskStateStore;
  let model: ScriptedModel;
  let dir: string;
  let config: AgentRunnerConfig;
  let app: INestApplicationContext;
  let runs: TaskRunService;

  beforeAll(async () => {
    database = await createTestDatabase('task-run');
    prisma = createPrismaClient(database.url);
    tasks = new TaskRepository(prisma);
    state = new TaskStateStore(prisma);
    dir = await mkdtemp(path.join(tmpdir(), 'hangar-task-run-'));
    const scenariosDir = path.join(dir, 'scenarios');
    await writeScenarios(scenariosDir);
    model = await startScriptedModel({ port: 0, scenariosDir });
    config = AgentRunnerConfigSchema.parse({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl(),
      HANGAR_REDIS_PREFIX: prefix,
      SCRIPTED_MODEL_URL: model.url,
      RUNNER_TASK_API_PORT: '0',
      WORKSPACE_ROOT: path.join(dir, 'workspaces'),
      RUNNER_HOME_ROOT: path.join(dir, 'homes'),
      RUNNER_ID: 'runner-a',
      LOG_LEVEL: 'silent',
    });
    const sandbox = AgentSandbox.forRunner(config);
    await sandbox.check();
    app = await NestFactory.createApplicationContext(AppModule.forRoot(config, sandbox), { logger: false });
    await app.init();
    runs = app.get(TaskRunService);
  });

  afterAll(async () => {
    await app?.close();
    await model?.close();
    await prisma?.$disconnect();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  // What a queue job does: claim attempt 1 and run it to its end.
  async function run(input: Omit<NewTask, 'projectId'>) {
    const task = await state.create({ projectId: DEFAULT_PROJECT_ID, ...input });
    const outcome = await runs.runAttempt(task.id, 1);
    expect(outcome).toMatchObject({ claimed: true });
    return tasks.get(task.id);
  }

  it('should complete with the JSON the agent gave its StructuredOutput tool as the result when the task has an output schema', async () => {
    const task = await run({
      prompt: 'Review the change',
      scenario: 'structured-output',
      outputSchema: OUTPUT_SCHEMA,
    });
    expect(task).toMatchObject({ status: 'COMPLETED', error: null, outputSchema: OUTPUT_SCHEMA });
    expect(JSON.parse(task.result ?? '')).toEqual({ verdict: 'approve', comments: ['Looks good.'] });
  });

  describe('a check: a command run in the workspace once the agent completed', () => {
    it('should record how it ended beside the completed task: its exit status and the end of its output', async () => {
      const passing = await run({
        prompt: 'Step one: write notes.txt',
        scenario: 'steps',
        check: { command: 'grep -c one notes.txt', timeoutSeconds: 30 },
      });
      expect(passing).toMatchObject({
        status: 'COMPLETED',
        check: { command: 'grep -c one notes.txt', timeoutSeconds: 30 },
        checkResult: { exitCode: 0, passed: true, output: '1\n' },
      });
      const failing = await run({
        prompt: 'Say hello',
        scenario: 'reply',
        check: { command: 'echo "notes.txt is missing" >&2; test -f notes.txt', timeoutSeconds: 30 },
      });
      // The agent's work is done (COMPLETED); what a failed check means is the workflow's to say.
      expect(failing).toMatchObject({
        status: 'COMPLETED',
        checkResult: { exitCode: 1, passed: false, output: 'notes.txt is missing\n' },
      });
    });

    it("should run in the agent's sandbox, seeing its workspace and nothing else of the host", async () => {
      const task = await run({
        prompt: 'Step one: write notes.txt',
        scenario: 'steps',
        check: {
          command: `ls; ls ${config.WORKSPACE_ROOT} ${config.RUNNER_HOME_ROOT} 2>/dev/null || echo hidden; id -u`,
          timeoutSeconds: 30,
        },
      });
      expect(task.checkResult).toEqual({ exitCode: 0, passed: true, output: 'notes.txt\nhidden\n1000\n' });
    });

    it('should stop a check at its time limit, and never run one after an agent that failed', async () => {
      const slow = await run({
        prompt: 'Say hello',
        scenario: 'reply',
        check: { command: 'echo started; sleep 60', timeoutSeconds: 1 },
      });
      expect(slow).toMatchObject({
        status: 'COMPLETED',
        checkResult: { exitCode: null, passed: false, output: 'started\n\n[stopped after 1 s]' },
      });
      const failed = await run({
        prompt: 'Say hello',
        scenario: 'no-such-scenario',
        check: { command: 'true', timeoutSeconds: 30 },
      });
      expect(failed).toMatchObject({ status: 'FAILED', checkResult: null });
    });
  });

  // Spare sandboxes (docs/performance.md#spare-sandboxes): made when an attempt ends, for the
  // tasks that come next.
  describe('spare sandboxes', () => {
    it('should give a task a spare being made rather than let it make a sandbox of its own, and one that is up', async () => {
      const spares = app.get(SpareSandboxes);
      // Every spare taken, as a burst takes them.
      const held = [await spares.take(), await spares.take()];
      expect(held.every((spare) => spare?.process.isWaiting())).toBe(true);
      try {
        // An attempt's end starts the next ones: none is ready when the next task asks.
        spares.attemptEnded();
        const next = await spares.take();
        held.push(next);
        expect(next).toBeDefined();
        expect(next!.process.isWaiting()).toBe(true);
        await expect(next!.process.ready).resolves.toBeUndefined();
      } finally {
        await Promise.all(
          held.flatMap((spare) => (spare ? [spares.discard(spare, 'the test is over')] : [])),
        );
      }
    });
  });

  describe("an earlier task's workspace (workspaceOf)", () => {
    it('should work in the earlier workspace and branch, seeing its files, with a diff of its own changes only', async () => {
      const first = await run({ prompt: 'Step one: write notes.txt', scenario: 'steps' });
      expect(first.status).toBe('COMPLETED');
      const workspace = path.join(config.WORKSPACE_ROOT, first.id);
      expect(await readFile(path.join(workspace, 'notes.txt'), 'utf8')).toBe('one\n');

      const second = await run({
        prompt: 'Step two: extend notes.txt',
        scenario: 'steps',
        workspaceOf: first.id,
      });
      // Edit refuses a file it has not read, and Read fails on a missing one: the file was there.
      expect(second).toMatchObject({ status: 'COMPLETED', error: null, result: 'Extended notes.txt.' });
      expect(second).toMatchObject({ workspace, branch: `hangar/${first.id}` });
      // Its diff starts where the earlier task's ended: at the commit holding notes.txt.
      expect(second.baseCommit).toBe((await new TaskDiffRepository(prisma).get(first.id))?.commit);
      expect(await readFile(path.join(workspace, 'notes.txt'), 'utf8')).toBe('one\ntwo\n');

      const diffs = new TaskDiffRepository(prisma);
      const firstDiff = await diffs.get(first.id);
      const secondDiff = await diffs.get(second.id);
      expect(firstDiff?.files).toEqual([{ path: 'notes.txt', status: 'added', additions: 1, deletions: 0 }]);
      expect(secondDiff?.files).toEqual([
        { path: 'notes.txt', status: 'modified', additions: 1, deletions: 0 },
      ]);
      expect(secondDiff?.unifiedDiff).toContain('\n+two\n');
      expect(secondDiff?.unifiedDiff).not.toContain('+one');
    });

    it('should fail with a workspace error when the earlier workspace is not on this runner', async () => {
      const elsewhere = await state.create({
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'ran on another runner',
      });
      const task = await run({ prompt: 'Step two', scenario: 'steps', workspaceOf: elsewhere.id });
      expect(task.status).toBe('FAILED');
      expect(task.error).toBe(
        `workspace: the workspace of task ${elsewhere.id}, which this task must work in, is not on this runner: that task ran on another runner, or its workspace was swept (WORKSPACE_RETENTION_HOURS)`,
      );
    });

    it('should refuse a second task in a workspace while another task still works in it', async () => {
      const first = await run({ prompt: 'Step one: write notes.txt', scenario: 'steps' });
      const slow = await state.create({
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'Step slow: take your time',
        scenario: 'steps',
        workspaceOf: first.id,
      });
      const slowRun = runs.runAttempt(slow.id, 1);
      const workspace = path.join(config.WORKSPACE_ROOT, first.id);
      await until(
        async () => (await tasks.get(slow.id)).workspace === workspace,
        'the slow task in its workspace',
      );
      const refused = await run({
        prompt: 'Step two: extend notes.txt',
        scenario: 'steps',
        workspaceOf: first.id,
      });
      expect(refused.status).toBe('FAILED');
      expect(refused.error).toBe(
        `workspace: ${workspace} is in use by task ${slow.id}, still running on this runner: tasks that share a workspace must run one after another`,
      );
      await slowRun;
      expect(await tasks.get(slow.id)).toMatchObject({ status: 'COMPLETED', result: 'Took my time.' });
      // The refused task changed nothing.
      expect(await readFile(path.join(workspace, 'notes.txt'), 'utf8')).toBe('one\n');
    });
  });
});

// One scenario, a case per step of the "workflow": the prompt says which step a run is.
async function writeScenarios(scenariosDir: string) {
  await mkdir(scenariosDir, { recursive: true });
  await writeFile(
    path.join(scenariosDir, 'steps.json'),
    JSON.stringify({
      description: 'the steps of a workflow, chosen by the prompt',
      steps: [{ text: 'Which step?' }],
      cases: [
        {
          promptIncludes: 'Step one',
          steps: [
            {
              content: [
                {
                  type: 'tool_use',
                  name: 'Write',
                  input: { file_path: '{{cwd}}/notes.txt', content: 'one\n' },
                },
              ],
            },
            { text: 'Wrote notes.txt.' },
          ],
        },
        {
          promptIncludes: 'Step two',
          steps: [
            { content: [{ type: 'tool_use', name: 'Read', input: { file_path: '{{cwd}}/notes.txt' } }] },
            {
              content: [
                {
                  type: 'tool_use',
                  name: 'Edit',
                  input: { file_path: '{{cwd}}/notes.txt', old_string: 'one\n', new_string: 'one\ntwo\n' },
                },
              ],
            },
            { text: 'Extended notes.txt.' },
          ],
        },
        { promptIncludes: 'Step slow', steps: [{ text: 'Took my time.', delayMs: 3000 }] },
      ],
    }),
  );
}

// Waits for a state the run reaches by itself, checking every 20 ms.
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
