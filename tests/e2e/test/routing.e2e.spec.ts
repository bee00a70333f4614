import { createPrismaClient, type PrismaClient } from '@hangar/db';
import type { RunnersOverview, Task, Workflow, WorkflowRun } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { countTasks, follow, followRun, getTask, request, signedInMember, type Follower } from './support';

// Routing with two real runner pools (docs/routing.md): a `gpu` pool and an `eu` pool, each one
// agent-runner process registering what it offers; tasks run only where their requirements
// hold, a step sharing a workspace runs on the runner holding it, and what no runner offers is
// refused when it is submitted.
describe('routing across two runner pools', () => {
  let stack: ServiceStack;
  let prisma: PrismaClient;
  const followers: Follower[] = [];

  beforeAll(async () => {
    stack = await ServiceStack.create('routing');
    prisma = createPrismaClient(stack.database.url);
    await stack.start(['scripted-model', 'gateway', 'websocket-pool', 'orchestrator']);
    await stack.start(['agent-runner'], {
      RUNNER_ID: 'gpu-runner',
      RUNNER_POOL: 'gpu',
      RUNNER_LABELS: 'gpu,large',
    });
    await stack.startRunner('eu-runner', {
      RUNNER_ID: 'eu-runner',
      RUNNER_POOL: 'eu',
      RUNNER_LABELS: 'region=eu',
    });
  });

  afterAll(async () => {
    for (const follower of followers) follower.close();
    await prisma?.$disconnect();
    await stack?.dispose();
  });

  async function submit(body: Record<string, unknown>): Promise<{ task: Task; follower: Follower }> {
    const created = await request(stack, 'POST', '/api/v1/tasks', {
      scenario: 'reply',
      prompt: 'hi',
      ...body,
    });
    expect(created.status).toBe(201);
    const task = created.body as Task;
    const follower = follow(stack, task.id);
    followers.push(follower);
    return { task, follower };
  }

  const ranOn = async (taskId: string) =>
    (await prisma.task.findUniqueOrThrow({ where: { id: taskId }, select: { runnerId: true } })).runnerId;

  it('shows the pools, what they offer and their runners', async () => {
    const overview = (await request(stack, 'GET', '/api/v1/runners')).body as RunnersOverview;
    expect(
      overview.pools.map((pool) => [pool.name, pool.labels, pool.runners.map((r) => [r.id, r.live])]),
    ).toEqual([
      ['eu', ['executor=process', 'pool=eu', 'region=eu'], [['eu-runner', true]]],
      ['gpu', ['executor=process', 'gpu', 'large', 'pool=gpu'], [['gpu-runner', true]]],
    ]);
    for (const pool of overview.pools) {
      expect(pool.providers).toContain('claude');
      expect(pool.slots).toBe(2);
    }
  });

  it('runs each task only on a runner that offers what it requires', async () => {
    const submitted = [
      ...(await Promise.all([1, 2, 3].map(() => submit({ requires: ['gpu'] })))),
      ...(await Promise.all([1, 2, 3].map(() => submit({ requires: ['region=eu'] })))),
      await submit({ requires: ['pool=eu'] }),
      await submit({ requires: ['large', 'gpu'] }),
    ];
    for (const { follower } of submitted) await follower.finished;
    const where = await Promise.all(
      submitted.map(async ({ task }) => [
        task.requires.join('+'),
        (await getTask(stack, task.id)).status,
        (await getTask(stack, task.id)).pool,
        await ranOn(task.id),
      ]),
    );
    expect(where).toEqual([
      ['gpu', 'COMPLETED', 'gpu', 'gpu-runner'],
      ['gpu', 'COMPLETED', 'gpu', 'gpu-runner'],
      ['gpu', 'COMPLETED', 'gpu', 'gpu-runner'],
      ['region=eu', 'COMPLETED', 'eu', 'eu-runner'],
      ['region=eu', 'COMPLETED', 'eu', 'eu-runner'],
      ['region=eu', 'COMPLETED', 'eu', 'eu-runner'],
      ['pool=eu', 'COMPLETED', 'eu', 'eu-runner'],
      ['gpu+large', 'COMPLETED', 'gpu', 'gpu-runner'],
    ]);
  });

  it('refuses a task no runner offers what it requires, naming the field, and stores nothing', async () => {
    const before = await countTasks(stack);
    const refused = await request(stack, 'POST', '/api/v1/tasks', {
      scenario: 'reply',
      prompt: 'hi',
      requires: ['gpu', 'region=eu'],
    });
    expect(refused.status).toBe(422);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      status: 422,
      code: 'UNROUTABLE',
      errors: [{ field: 'requires', message: expect.stringMatching(/^no runner offers label gpu/) }],
      detail: expect.stringMatching(
        /^requires: no runner offers label gpu and label region=eu and the claude CLI \(pools: eu \[.*\]; gpu \[.*\]\)$/,
      ),
    });
    const malformed = await request(stack, 'POST', '/api/v1/tasks', { prompt: 'hi', requires: ['GPU!'] });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('requires');
    expect(await countTasks(stack)).toBe(before);
  });

  it('runs a step that shares a workspace on the runner holding it; refuses a run no runner could take', async () => {
    const definition = {
      name: 'routed',
      steps: [
        { id: 'first', prompt: 'first', scenario: 'reply', requires: ['region=eu'] },
        {
          id: 'second',
          prompt: 'second',
          scenario: 'reply',
          needs: ['first'],
          workspace: { sameAs: 'first' },
        },
        { id: 'elsewhere', prompt: 'third', scenario: 'reply', needs: ['first'], requires: ['gpu'] },
      ],
      routing: { strategy: 'capability' },
    };
    const created = await request(stack, 'POST', '/api/v1/workflows', definition);
    expect(created.status).toBe(201);
    const workflow = created.body as Workflow;
    const started = await request(stack, 'POST', `/api/v1/workflows/${workflow.id}/runs`, { inputs: {} });
    expect(started.status).toBe(201);
    const follower = followRun(stack, (started.body as WorkflowRun).id);
    await follower.finished;
    follower.close();
    const run = (await request(stack, 'GET', `/api/v1/workflow-runs/${(started.body as WorkflowRun).id}`))
      .body as WorkflowRun;
    expect(run.status).toBe('COMPLETED');
    const taskOf = (key: string) => run.steps.find((step) => step.key === key)!.taskId!;
    expect(await ranOn(taskOf('first'))).toBe('eu-runner');
    expect(await ranOn(taskOf('second'))).toBe('eu-runner');
    expect((await getTask(stack, taskOf('second'))).pool).toBe('runner:eu-runner');
    expect(await ranOn(taskOf('elsewhere'))).toBe('gpu-runner');

    const impossible = await request(stack, 'POST', '/api/v1/workflows', {
      name: 'impossible',
      steps: [
        { id: 'ok', prompt: 'fine', scenario: 'reply' },
        { id: 'tpu', prompt: 'never', scenario: 'reply', requires: ['tpu'] },
      ],
    });
    expect(impossible.status).toBe(201);
    const runsBefore = await prisma.workflowRun.count();
    const refused = await request(
      stack,
      'POST',
      `/api/v1/workflows/${(impossible.body as Workflow).id}/runs`,
      { inputs: {} },
    );
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      code: 'UNROUTABLE',
      errors: [{ field: 'steps.1.requires', message: expect.stringMatching(/^no runner offers label tpu/) }],
    });
    expect(await prisma.workflowRun.count()).toBe(runsBefore);
  });

  it("routes by the project's strategy, which its admins set", async () => {
    const bad = await request(stack, 'PATCH', '/api/v1/projects/default', { routingStrategy: 'random' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('routingStrategy');
    // Only the project's admins choose it: an operator is refused and nothing changes.
    const operator = await signedInMember(stack, { name: 'oscar', project: 'default', role: 'operator' });
    const refused = await request(
      stack,
      'PATCH',
      '/api/v1/projects/default',
      { routingStrategy: 'round-robin' },
      operator,
    );
    expect(refused.status).toBe(403);
    expect((await request(stack, 'GET', '/api/v1/projects/default')).body).toMatchObject({
      routingStrategy: null,
    });

    const set = await request(stack, 'PATCH', '/api/v1/projects/default', { routingStrategy: 'round-robin' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ slug: 'default', name: 'Default', routingStrategy: 'round-robin' });

    // Neither pool is asked for: round-robin alternates between them.
    const submitted = [];
    for (let index = 0; index < 4; index += 1) submitted.push(await submit({}));
    for (const { follower } of submitted) await follower.finished;
    const runners = await Promise.all(submitted.map(({ task }) => ranOn(task.id)));
    expect(runners.filter((runner) => runner === 'gpu-runner')).toHaveLength(2);
    expect(runners.filter((runner) => runner === 'eu-runner')).toHaveLength(2);
    expect(runners[0]).not.toBe(runners[1]);
  });
});
