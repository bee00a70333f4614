import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import path from 'node:path';
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
} from './support';

// Spare sandboxes (docs/performance.md#spare-sandboxes): the runner makes sandboxes before their
// tasks come, and a cold Claude Code CLI starts in one. A spare's workspace lives in
// <WORKSPACE_ROOT>/.spare/<id> and its home in <RUNNER_HOME_ROOT>/.spare/<id> until a task takes it.
describe('spare sandboxes: a cold CLI started in a sandbox made ahead of its task', () => {
  let stack: ServiceStack;
  let spareRoot: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('spare-sandboxes', { RUNNER_SPARE_SANDBOXES: '1' });
    await stack.start();
    spareRoot = path.join(stack.workspaceRoot, '.spare');
    expect(
      (await request(stack, 'POST', '/api/v1/profiles', { name: 'planner', permissionMode: 'plan' })).status,
    ).toBe(201);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  const runnerSaid = (lines = 15) =>
    (stack.processes.get('agent-runner')?.output ?? []).slice(-lines).join('\n');
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sampleOf(await runnerMetrics(stack), name, labels);
  const hits = () => metric('hangar_runner_spare_sandbox_takes_total', { outcome: 'hit' });
  // The spares waiting now: their workspaces' paths (<root>/.spare/<runner id>/<spare id>).
  const spares = () =>
    (existsSync(spareRoot) ? readdirSync(spareRoot) : []).flatMap((runner) =>
      readdirSync(path.join(spareRoot, runner))
        .filter((name) => !name.endsWith('.git'))
        .map((name) => path.join(spareRoot, runner, name)),
    );
  const sparesReady = async (count: number) => {
    const deadline = Date.now() + 30_000;
    while ((await metric('hangar_runner_spare_sandboxes')) !== count || spares().length !== count) {
      if (Date.now() > deadline)
        throw new Error(`the runner never held ${count} spare sandbox(es); it said:\n${runnerSaid()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const alive = processAlive;
  const pidsOf = (dir: string) => livePidsIn(stack, dir);
  const run = async (body: Record<string, unknown>) => {
    const created = await createTask(stack, body);
    const follower = follow(stack, created.id);
    const events = await follower.finished;
    follower.close();
    return { ...(await taskWithDiff(stack, created.id)), events };
  };

  it('starts a cold task in a spare — the same events, result and diff as its own sandbox gives — and uses each spare once', async () => {
    await sparesReady(1);
    const [first] = spares();
    expect(path.basename(first!)).toMatch(/^spare-/);
    const firstPids = pidsOf(first!);
    expect(firstPids.length).toBeGreaterThan(0);

    const inSpare = await run({ prompt: "write it, 'quoted' and $(id)", scenario: 'write-file' });
    expect(inSpare.task.status).toBe('COMPLETED');
    expect(await hits()).toBe(1);
    // The spare's workspace and home became the task's own; the spare is gone from the pool, and
    // its processes (its CLI among them) with the task.
    expect(inSpare.task.workspace).toBe(path.join(stack.workspaceRoot, inSpare.task.id));
    expect(readFileSync(path.join(inSpare.task.workspace!, 'hello.txt'), 'utf8')).toBe('hello from hangar\n');
    for (const pid of firstPids) expect(alive(pid)).toBe(false);
    // Another one replaces it once the attempt has ended: never the same.
    await sparesReady(1);
    expect(spares()).not.toContain(first);

    // The same task on a runner that makes no spares.
    await stack.stop('agent-runner');
    await stack.start(['agent-runner'], { RUNNER_SPARE_SANDBOXES: '0' });
    expect(spares()).toEqual([]);
    const own = await run({ prompt: "write it, 'quoted' and $(id)", scenario: 'write-file' });
    expect(own.task.status).toBe('COMPLETED');
    expect(await hits()).toBe(0);

    expect(eventShape(inSpare.events)).toEqual(eventShape(own.events));
    expect(inSpare.task.result).toBe(own.task.result);
    expect(inSpare.task.prompt).toBe(own.task.prompt);
    expect(comparableDiff(inSpare.diff)).toEqual(comparableDiff(own.diff));
  });

  it('starts a task a spare cannot serve (a planning profile: its workspace is read-only) in its own sandbox', async () => {
    await stack.stop('agent-runner');
    await stack.start(['agent-runner'], { RUNNER_SPARE_SANDBOXES: '1' });
    await sparesReady(1);
    const [waiting] = spares();
    const planned = await run({ prompt: 'plan it', scenario: 'reply', profile: 'planner' });
    expect(planned.task.status).toBe('COMPLETED');
    expect(await hits()).toBe(0);
    expect(spares()).toEqual([waiting]);
  });

  it("leaves another runner's spares alone when it starts beside it (the same folders), and removes a killed runner's", async () => {
    await sparesReady(1);
    const [mine] = spares();
    const minePids = pidsOf(mine!);
    // What a runner killed with a spare waiting leaves: its folder, no process in it, for a while.
    const killed = path.join(spareRoot, 'killed-runner');
    mkdirSync(path.join(killed, 'spare-0'), { recursive: true });
    const longAgo = new Date(Date.now() - 5 * 60_000);
    utimesSync(killed, longAgo, longAgo);
    // A runner starting at the same moment: its first spare's folder made, no process in it yet.
    const starting = path.join(spareRoot, 'starting-runner');
    mkdirSync(path.join(starting, 'spare-1'), { recursive: true });
    await stack.startRunner('second-runner', { RUNNER_ID: 'second-runner', RUNNER_SPARE_SANDBOXES: '0' });
    await stack.stop('second-runner');
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(path.join(starting, 'spare-1'))).toBe(true);
    rmSync(starting, { recursive: true });
    expect(spares()).toEqual([mine]);
    for (const pid of minePids) expect(alive(pid)).toBe(true);
    const ran = await run({ prompt: 'hello', scenario: 'reply' });
    expect(ran.task.status).toBe('COMPLETED');
    expect(await hits()).toBe(1);
  });

  it('stops every spare with the runner (SIGTERM): no process or folder is left behind', async () => {
    await sparesReady(1);
    const [held] = spares();
    const pids = pidsOf(held!);
    expect(pids.length).toBeGreaterThan(0);
    // The runner's sandbox support folder (the sandboxes' /etc, its socket), as bubblewrap is
    // given it.
    const etc = pids
      .flatMap((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'))
      .find((arg) => /\/hangar-sbx-[^/]+\/etc-[^/]+$/.test(arg));
    expect(etc).toBeDefined();
    const support = path.dirname(etc!);
    expect(existsSync(support)).toBe(true);
    await stack.stop('agent-runner', 'SIGTERM');
    expect(existsSync(support)).toBe(false);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(pidsOf(stack.workspaceRoot)).toEqual([]);
    expect(existsSync(spareRoot) ? readdirSync(spareRoot) : []).toEqual([]);
    const homes = path.join(stack.dataDir, 'homes', '.spare');
    expect(existsSync(homes) ? readdirSync(homes) : []).toEqual([]);
  });
});
