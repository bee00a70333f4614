import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Task } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import {
  comparableDiff,
  createTask,
  eventShape,
  follow,
  livePidsIn,
  processAlive,
  request,
  runnerMetrics,
  sampleOf,
  taskWithDiff,
  waitUntil,
} from './support';

// The warm pool (docs/performance.md): Claude Code CLIs the runner starts ahead of their tasks, in
// their sandboxes, against the scripted model. A warm CLI's workspace lives in
// <WORKSPACE_ROOT>/.warm/<id> until a task takes it.
describe('warm pool: agent CLIs started before their tasks', () => {
  let stack: ServiceStack;
  let warmRoot: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('warm-pool', {
      RUNNER_WARM_MAX: '2',
      RUNNER_WARM_DEFAULT: '0',
      RUNNER_WARM_REFRESH_MS: '200',
    });
    await stack.start();
    warmRoot = path.join(stack.workspaceRoot, '.warm');
    for (const [name, warm] of [
      ['warm', 1],
      ['cold-twin', 0],
    ] as const)
      expect((await request(stack, 'POST', '/api/v1/profiles', { name, warm })).status).toBe(201);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  const runnerSaid = (lines = 15) =>
    (stack.processes.get('agent-runner')?.output ?? []).slice(-lines).join('\n');
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sampleOf(await runnerMetrics(stack), name, labels);
  const hits = () => metric('hangar_runner_warm_takes_total', { outcome: 'hit', reason: '' });
  // The warm CLIs waiting now: their workspaces' paths (<root>/.warm/<runner id>/<warm id>).
  const waiting = () =>
    (existsSync(warmRoot) ? readdirSync(warmRoot) : []).flatMap((runner) =>
      readdirSync(path.join(warmRoot, runner))
        .filter((name) => !name.endsWith('.git'))
        .map((name) => path.join(warmRoot, runner, name)),
    );
  // Resolves once the pool has `count` CLIs waiting (its gauge is set when one is ready).
  const poolHolds = async (count: number) => {
    const deadline = Date.now() + 60_000;
    while ((await metric('hangar_runner_warm_agents')) !== count) {
      if (Date.now() > deadline)
        throw new Error(`the warm pool never held ${count} CLI(s); the runner said:\n${runnerSaid()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const run = async (body: Record<string, unknown>) => {
    const created = await createTask(stack, body);
    const follower = follow(stack, created.id);
    let timer: NodeJS.Timeout | undefined;
    const events = await Promise.race([
      follower.finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            void request(stack, 'GET', `/api/v1/tasks/${created.id}`).then((now) =>
              reject(
                new Error(
                  `task ${created.id} did not finish: ${JSON.stringify(now.body)}\nevents: ${JSON.stringify(follower.events)}\nrunner: ${runnerSaid()}`,
                ),
              ),
            ),
          60_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    follower.close();
    return { ...(await taskWithDiff(stack, created.id)), events };
  };
  const alive = processAlive;
  const pidsOf = (dir: string) => livePidsIn(stack, dir);

  it('serves a task from a warm CLI as a cold start would — same events, result and diff — and uses each CLI once', async () => {
    await poolHolds(1);
    const [first] = waiting();
    expect(path.basename(first!)).toMatch(/^warm-/);
    const firstPids = pidsOf(first!);
    expect(firstPids.length).toBeGreaterThan(0);

    const warm = await run({ prompt: 'write it', scenario: 'write-file', profile: 'warm' });
    const cold = await run({ prompt: 'write it', scenario: 'write-file', profile: 'cold-twin' });
    expect(warm.task.status).toBe('COMPLETED');
    expect(cold.task.status).toBe('COMPLETED');
    expect(await hits()).toBe(1);

    expect(eventShape(warm.events)).toEqual(eventShape(cold.events));
    expect(warm.task.result).toBe(cold.task.result);
    expect(warm.task.result).toBe('Wrote hello.txt');
    const comparable = comparableDiff;
    expect(comparable(warm.diff)).toEqual(comparable(cold.diff));
    expect(comparable(warm.diff).files).toEqual([
      expect.objectContaining({ path: 'hello.txt', status: 'added' }),
    ]);
    // The warm CLI's workspace became the task's own, on the task's branch.
    expect(warm.task.workspace).toBe(path.join(stack.workspaceRoot, warm.task.id));
    expect(readFileSync(path.join(stack.workspaceRoot, warm.task.id, 'hello.txt'), 'utf8')).toBe(
      'hello from hangar\n',
    );
    expect(warm.task.branch).toBe(`hangar/${warm.task.id}`);

    // The CLI that served it is gone with its task; the next task gets another, started since.
    for (const pid of firstPids) expect(alive(pid)).toBe(false);
    await poolHolds(1);
    const [second] = waiting();
    expect(second).not.toBe(first);
    const again = await run({ prompt: 'hello', scenario: 'reply', profile: 'warm' });
    expect(again.task.status).toBe('COMPLETED');
    expect(await hits()).toBe(2);
    expect(waiting()).not.toContain(second);
  });

  it("refuses a waiting CLI's credential until a task takes the CLI", async () => {
    await poolHolds(1);
    const [held] = waiting();
    // The credential the CLI was started with, as anything on the host could read it.
    const args = pidsOf(held!).flatMap((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    const token = args[args.indexOf('ANTHROPIC_API_KEY') + 1];
    expect(token).toMatch(/^hga_/);
    const endpoints = /agents' endpoints on (http:\/\/[0-9.:]+)/.exec(runnerSaid(Infinity))?.[1];
    expect(endpoints).toBeDefined();
    const call = await fetch(`${endpoints}/model/claude/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': token! },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(call.status).toBe(401);
    expect(await call.text()).toContain('not a credential of any task attempt');
    const mcp = await fetch(`${endpoints}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(mcp.status).toBe(401);
    // The CLI still waits, unspent.
    expect(waiting()).toContain(held);
  });

  it('starts cold what a warm CLI cannot serve, and says why', async () => {
    await poolHolds(1);
    const held = waiting()[0]!;
    // A conversation's turn keeps its agent session and workspace across turns: it starts cold.
    const created = await request(stack, 'POST', '/api/v1/conversations', {
      title: 'cold',
      message: 'Say hello.',
      scenario: 'reply',
      profile: 'warm',
    });
    expect(created.status).toBe(201);
    const { turn } = created.body as { turn: { task: Task } };
    const follower = follow(stack, turn.task.id);
    await follower.finished;
    follower.close();
    expect((await request(stack, 'GET', `/api/v1/tasks/${turn.task.id}`)).body).toMatchObject({
      status: 'COMPLETED',
    });
    expect(await metric('hangar_runner_warm_takes_total', { outcome: 'miss', reason: 'conversation' })).toBe(
      1,
    );
    // The waiting CLI was not spent on it.
    expect(waiting()).toContain(held);
    // Every phase of the runs is measured, warm and cold.
    const text = await runnerMetrics(stack);
    for (const phase of ['queue', 'prepare', 'start', 'run', 'finish', 'first_event'])
      for (const start of ['warm', 'cold'])
        expect(sampleOf(text, 'hangar_task_phase_seconds_count', { phase, start })).toBeGreaterThan(0);
  });

  it("retires a profile's warm CLIs when the profile changes: no task runs on the old settings", async () => {
    await poolHolds(1);
    const [before] = waiting();
    const beforePids = pidsOf(before!);
    const changed = await request(stack, 'PATCH', '/api/v1/profiles/warm', {
      appendSystemPrompt: 'Be brief.',
    });
    expect(changed.status).toBe(200);
    await waitUntil(() => !waiting().includes(before!), 30_000, 'the old warm CLI to be retired');
    for (const pid of beforePids) expect(alive(pid)).toBe(false);
    await poolHolds(1);
    const [after] = waiting();
    // The new one runs with the profile as it is now.
    const cmdlines = pidsOf(after!).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    expect(
      cmdlines.some((args) => args.includes('--append-system-prompt') && args.includes('Be brief.')),
    ).toBe(true);
    expect(
      await metric('hangar_runner_warm_retired_total', { reason: 'profile-changed' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('refuses a warm pool where it cannot be had, naming the field', async () => {
    for (const body of [
      { name: 'codex-warm', provider: 'codex', warm: 1 },
      { name: 'too-warm', warm: 17 },
      { name: 'half-warm', warm: 0.5 },
    ]) {
      const refused = await request(stack, 'POST', '/api/v1/profiles', body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ errors: [expect.objectContaining({ field: 'warm' })] });
    }
    const codex = await request(stack, 'POST', '/api/v1/profiles', { name: 'codex-cold', provider: 'codex' });
    expect(codex.status).toBe(201);
    expect((await request(stack, 'PATCH', '/api/v1/profiles/codex-cold', { warm: 2 })).body).toMatchObject({
      status: 400,
      errors: [expect.objectContaining({ field: 'warm' })],
    });
  });

  it('stops every warm CLI with the runner (SIGTERM): no process or folder is left behind', async () => {
    await poolHolds(1);
    const [held] = waiting();
    const pids = pidsOf(held!);
    expect(pids.length).toBeGreaterThan(0);
    await stack.stop('agent-runner', 'SIGTERM');
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(pidsOf(stack.workspaceRoot)).toEqual([]);
    expect(waiting()).toEqual([]);
    expect(
      existsSync(path.join(stack.dataDir, 'homes', '.warm'))
        ? readdirSync(path.join(stack.dataDir, 'homes', '.warm'))
        : [],
    ).toEqual([]);
  });

  it('replaces a warm CLI that waited longer than RUNNER_WARM_IDLE_SECONDS with a fresh one', async () => {
    await stack.start(['agent-runner'], { RUNNER_WARM_IDLE_SECONDS: '1' });
    await poolHolds(1);
    const [stale] = waiting();
    const stalePids = pidsOf(stale!);
    await waitUntil(() => !waiting().includes(stale!), 30_000, 'the idle warm CLI to be replaced');
    await poolHolds(1);
    expect(waiting()).not.toContain(stale);
    for (const pid of stalePids) expect(alive(pid)).toBe(false);
    expect(await metric('hangar_runner_warm_retired_total', { reason: 'idle' })).toBeGreaterThanOrEqual(1);
  });
});
