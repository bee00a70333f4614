import path from 'node:path';
import { createRedis, RunnerRegistry } from '@hangar/redis';
import { redisUrl, ServiceStack, type ServiceProcess } from '@hangar/testing';
import { request, runTask } from './support';

// Two runners in one pool, one of which keeps a warm CLI of a profile (docs/performance.md): the
// orchestrator sends that profile's tasks to the runner holding the CLI, rather than to
// whichever runner of the pool takes the job first (half the time, the one without it).
describe('routing a task to the runner holding its warm CLI', () => {
  let stack: ServiceStack;
  let warmRunner: ServiceProcess;
  const redis = createRedis(redisUrl());
  let registry: RunnerRegistry;

  beforeAll(async () => {
    stack = await ServiceStack.create('warm-routing', { RUNNER_WARM_MAX: '0' });
    registry = new RunnerRegistry(redis, { prefix: stack.redisPrefix });
    await stack.start();
    // Its own folders: a runner clears what a killed one left under its roots' .warm when it starts.
    warmRunner = await stack.startRunner('warm-runner', {
      RUNNER_ID: 'warm-runner',
      RUNNER_WARM_MAX: '1',
      RUNNER_WARM_REFRESH_MS: '200',
      WORKSPACE_ROOT: path.join(stack.dataDir, 'warm-runner', 'workspaces'),
      RUNNER_HOME_ROOT: path.join(stack.dataDir, 'warm-runner', 'homes'),
    });
    expect((await request(stack, 'POST', '/api/v1/profiles', { name: 'warm', warm: 1 })).status).toBe(201);
  });

  afterAll(async () => {
    redis.disconnect();
    await stack?.dispose();
  });

  const metrics = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const warmHits = async (port: number) =>
    Number(
      /^hangar_runner_warm_takes_total\{[^}]*outcome="hit"[^}]*\} (\S+)$/m.exec(await metrics(port))?.[1] ??
        0,
    );

  // Once the registry (what routing reads) says the warm runner holds a waiting CLI.
  async function warmRegistered() {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const records = await registry.all();
      const warm = records.find((record) => record.id === 'warm-runner')?.warm ?? {};
      if (Object.values(warm).includes(1)) return;
      if (Date.now() > deadline)
        throw new Error(
          `the warm runner never registered its waiting CLI: ${JSON.stringify(records)}\nit said:\n${warmRunner.output.slice(-5).join('\n')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("sends each of the profile's tasks to the runner that keeps it warm, while the other runner is idle", async () => {
    for (let round = 0; round < 3; round += 1) {
      await warmRegistered();
      const task = await runTask(stack, { prompt: 'hello', scenario: 'reply', profile: 'warm' });
      expect(task).toMatchObject({ status: 'COMPLETED', pool: 'runner:warm-runner' });
    }
    expect(await warmHits(warmRunner.port)).toBe(3);
    // The other runner, live and idle throughout, ran none of them; a task of another profile
    // still goes to the pool, as before.
    const other = await runTask(stack, { prompt: 'hello', scenario: 'reply' });
    expect(other).toMatchObject({ status: 'COMPLETED', pool: 'default' });
  });
});
