import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AgentEventOf, Task, TaskEvent } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, request } from './support';

const SLOTS = 2;

describe('limits', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('limits', {
      RUNNER_SLOTS: String(SLOTS),
      // Well past brief-wait's 1.5 s and the CLI's own time to ask and to end (about 0.5 s each
      // on a busy machine): the task finishing within the grace period is not a race.
      RUNNER_SHUTDOWN_GRACE_MS: '5000',
    });
    // A scenario of this test's own, picked up with no code change: a reply after 1.5 s.
    const scenarios = path.join(stack.dataDir, 'scenarios');
    mkdirSync(scenarios, { recursive: true });
    writeFileSync(
      path.join(scenarios, 'brief-wait.json'),
      JSON.stringify({
        description: 'answers after 1.5 s',
        steps: [{ delayMs: 1500, text: 'Finished in time.' }],
      }),
    );
    // An agent whose tool output and answer hold NUL, which PostgreSQL's text cannot store.
    writeFileSync(
      path.join(scenarios, 'nul-output.json'),
      JSON.stringify({
        description: 'prints NUL characters, then answers with one',
        steps: [
          {
            content: [
              {
                type: 'tool_use',
                name: 'Bash',
                input: { command: "printf 'out\\0put'; printf 'err\\0or' >&2", description: 'prints NUL' },
              },
            ],
          },
          { text: 'nul \u0000 done.' },
        ],
      }),
    );
    await stack.start(undefined, { SCRIPTED_MODEL_SCENARIOS_DIR: scenarios });
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should stop an agent that prints more than its profile allows, saying so', async () => {
    await request(stack, 'POST', '/api/v1/profiles', { name: 'terse', maxOutputBytes: 4096 });
    const task = await createTask(stack, { prompt: 'say a lot', profile: 'terse', scenario: 'big-output' });
    const follower = follow(stack, task.id);
    await follower.finished;
    follower.close();
    const failed = await getTask(stack, task.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('output-limit: the agent printed more than 4096 bytes and was stopped');
    expect(stack.processesIn(failed.workspace!)).toEqual([]);
  });

  it('should keep an agent whose output holds NUL characters, each shown as U+FFFD', async () => {
    await request(stack, 'POST', '/api/v1/profiles', {
      name: 'nul-printer',
      permissionMode: 'bypassPermissions',
    });
    const task = await createTask(stack, {
      prompt: 'print NUL',
      profile: 'nul-printer',
      scenario: 'nul-output',
    });
    const follower = follow(stack, task.id);
    await follower.finished;
    follower.close();
    const done = await getTask(stack, task.id);
    expect(done).toMatchObject({ status: 'COMPLETED', result: 'nul \uFFFD done.' });
    const page = await request(stack, 'GET', `/api/v1/tasks/${task.id}/events?limit=1000`);
    const events = (page.body as { items: TaskEvent[] }).items;
    const result = events.find((event) => event.type === 'tool.result') as
      AgentEventOf<'tool.result'> | undefined;
    expect(result?.data.content).toContain('out\uFFFDput');
    expect(JSON.stringify(events)).not.toContain('\\u0000');
  });

  it(`should never run more than ${SLOTS} CLIs at once`, async () => {
    const tasks = await Promise.all(
      Array.from({ length: SLOTS + 3 }, () => createTask(stack, { prompt: 'wait', scenario: 'slow' })),
    );
    const followers = tasks.map((task) => follow(stack, task.id));
    try {
      // Watch the process table (not the runner's own counter) until the slots are full, and a while after.
      let most = 0;
      let fullSince: number | undefined;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (fullSince === undefined || Date.now() - fullSince < 2000)) {
        const running = stack.agentsIn(stack.workspaceRoot).length;
        most = Math.max(most, running);
        if (running === SLOTS) fullSince ??= Date.now();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(most).toBe(SLOTS);
      const statuses = await Promise.all(tasks.map((task) => getTask(stack, task.id).then((t) => t.status)));
      expect(statuses.filter((status) => status === 'RUNNING')).toHaveLength(SLOTS);
      expect(statuses.filter((status) => status === 'QUEUED')).toHaveLength(3);
    } finally {
      // Whatever happened, free the slots for the tests after this one.
      await Promise.all(tasks.map((task) => request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`)));
      await Promise.all(followers.map((follower) => follower.finished));
      followers.forEach((follower) => follower.close());
    }
  });

  it('should start queued tasks by priority, oldest first within one', async () => {
    const blockers = await Promise.all(
      Array.from({ length: SLOTS }, () => createTask(stack, { prompt: 'hold a slot', scenario: 'slow' })),
    );
    const blocking = blockers.map((task) => follow(stack, task.id));
    await Promise.all(blocking.map((follower) => follower.waitFor((event) => event.type === 'system.init')));
    // Created low first: in arrival order it would start first.
    const waiting: Record<string, Task> = {};
    for (const priority of ['low', 'normal', 'high'] as const) {
      waiting[priority] = await createTask(stack, { prompt: priority, scenario: 'brief-wait', priority });
    }
    const followers = Object.values(waiting).map((task) => follow(stack, task.id));
    const started = (task: Task) =>
      followers[Object.values(waiting).indexOf(task)]!.waitFor(
        (event) => event.type === 'task.status' && (event.data as { status: string }).status === 'RUNNING',
      );
    // Free one slot at a time and see who takes it.
    await request(stack, 'POST', `/api/v1/tasks/${blockers[0]!.id}/cancel`);
    await started(waiting.high!);
    expect((await getTask(stack, waiting.normal!.id)).status).toBe('QUEUED');
    expect((await getTask(stack, waiting.low!.id)).status).toBe('QUEUED');
    await request(stack, 'POST', `/api/v1/tasks/${blockers[1]!.id}/cancel`);
    await started(waiting.normal!);
    await Promise.all([...followers, ...blocking].map((follower) => follower.finished));
    [...followers, ...blocking].forEach((follower) => follower.close());
    const [high, normal, low] = await Promise.all(
      [waiting.high!, waiting.normal!, waiting.low!].map((task) => getTask(stack, task.id)),
    );
    // Low took the slot of the first of the others whose agent ended (its result is the agent's
    // last event).
    const resultAt = (follower: (typeof followers)[number]) =>
      Date.parse(follower.events.find((event) => event.type === 'result')!.at);
    expect(Date.parse(low!.startedAt!)).toBeGreaterThanOrEqual(
      Math.min(resultAt(followers[2]!), resultAt(followers[1]!)),
    );
    expect([high!.status, normal!.status, low!.status]).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  });

  it("should give a task's slot to the next one once its agent has exited, while the task is still finishing", async () => {
    // Two tasks whose checks (run once their agents completed) hold them RUNNING for 2 s, then one
    // that waits for a slot.
    const checked = await Promise.all(
      Array.from({ length: SLOTS }, () =>
        createTask(stack, {
          prompt: 'checked',
          scenario: 'reply',
          check: { command: 'sleep 2', timeoutSeconds: 30 },
        }),
      ),
    );
    const next = await createTask(stack, { prompt: 'next', scenario: 'reply' });
    const followers = [...checked, next].map((task) => follow(stack, task.id));
    let most = 0;
    const watching = setInterval(() => {
      most = Math.max(most, stack.agentsIn(stack.workspaceRoot).length);
    }, 20);
    try {
      await Promise.all(followers.map((follower) => follower.finished));
    } finally {
      clearInterval(watching);
      followers.forEach((follower) => follower.close());
    }
    const [first, second, third] = await Promise.all(
      [...checked, next].map((task) => getTask(stack, task.id)),
    );
    expect([first!.status, second!.status, third!.status]).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(first!.checkResult).toMatchObject({ passed: true });
    // The third started (and ended) while the first two were still running their checks.
    expect(Date.parse(third!.startedAt!)).toBeLessThan(
      Math.min(Date.parse(first!.finishedAt!), Date.parse(second!.finishedAt!)),
    );
    expect(most).toBeLessThanOrEqual(SLOTS);
  });

  it('should let a task finish within the grace period on SIGTERM', async () => {
    const task = await createTask(stack, { prompt: 'almost done', scenario: 'brief-wait' });
    const follower = follow(stack, task.id);
    await follower.waitFor((event) => event.type === 'system.init');
    await stack.stop('agent-runner', 'SIGTERM');
    const events = await follower.finished;
    follower.close();
    expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });
    expect((await getTask(stack, task.id)).result).toBe('Finished in time.');
    await stack.start(['agent-runner']);
  });

  it('should requeue a task still running when the grace period ends, for another runner to take', async () => {
    const task = await createTask(stack, { prompt: 'long job', scenario: 'slow' });
    const follower = follow(stack, task.id);
    const inits = () => follower.events.filter((event) => event.type === 'system.init').length;
    await follower.waitFor((event) => event.type === 'system.init');
    await stack.stop('agent-runner', 'SIGTERM');
    const requeued = await follower.waitFor(
      (event) => event.type === 'task.status' && (event.data as { status: string }).status === 'QUEUED',
    );
    expect((requeued as TaskEvent & AgentEventOf<'task.status'>).data.reason).toBe(
      'runner-shutdown: the runner stopped before the task finished',
    );
    expect(stack.agentsIn(stack.workspaceRoot)).toEqual([]);

    await stack.start(['agent-runner']);
    await follower.waitFor((event) => event.type === 'system.init' && inits() === 2);
    expect(await getTask(stack, task.id)).toMatchObject({ status: 'RUNNING', attempts: 2 });
    await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    await follower.finished;
    follower.close();
  });
});
