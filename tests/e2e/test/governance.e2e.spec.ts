import type { Budget, ModelUsage, Problem } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { request, runTask, signedInMember } from './support';

// Every model call an agent makes goes through the runner's model gateway, which meters it
// (docs/governance.md): the real CLIs against the scripted model, with the runner's sandbox on.
describe('governance: model calls metered', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('governance');
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  const run = (body: Record<string, unknown>) => runTask(stack, body);

  const usageOf = async (taskId: string) =>
    (await request(stack, 'GET', `/api/v1/tasks/${taskId}/usage`)).body as ModelUsage;

  it("meters a Claude Code task's calls to what the CLI itself reports", async () => {
    const done = await run({ prompt: 'Write hello.txt please', scenario: 'write-file' });
    expect(done.status).toBe('COMPLETED');
    const usage = await usageOf(done.id);
    expect(usage).toMatchObject({
      taskId: done.id,
      inputTokens: done.usage!.inputTokens,
      outputTokens: done.usage!.outputTokens,
      cacheReadTokens: done.usage!.cacheReadTokens,
      cacheWriteTokens: done.usage!.cacheCreationTokens,
      unpricedCalls: 0,
    });
    expect(usage.calls).toBeGreaterThanOrEqual(2);
    expect(usage.costUsd).toBeCloseTo(done.costUsd!, 12);

    // The runner's metrics count the same (this is the stack's first Claude task).
    const metrics = await (await fetch(`http://127.0.0.1:${stack.ports.get('agent-runner')}/metrics`)).text();
    const summed = (name: string, filter: string) =>
      metrics
        .split('\n')
        .filter(
          (line) =>
            line.startsWith(`${name}{`) && line.includes(filter) && line.includes('provider="claude"'),
        )
        .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    expect(summed('hangar_model_cost_usd_total', 'project="default"')).toBeCloseTo(usage.costUsd, 12);
    expect(summed('hangar_model_tokens_total', 'kind="output"')).toBe(usage.outputTokens);
    expect(summed('hangar_model_calls_total', 'status="200"')).toBe(usage.calls);
  });

  it.each([
    ['codex', 'codex-shell', {}],
    ['gemini', 'gemini-shell', { permissionMode: 'bypassPermissions' }],
  ])('gives a %s task a cost, which its CLI does not report', async (provider, scenario, extra) => {
    expect(
      (await request(stack, 'POST', '/api/v1/profiles', { name: provider, provider, ...extra })).status,
    ).toBe(201);
    const done = await run({ prompt: 'run a command', profile: provider, scenario });
    expect(done.status).toBe('COMPLETED');
    const usage = await usageOf(done.id);
    expect(usage.calls).toBeGreaterThanOrEqual(2);
    expect(usage.unpricedCalls).toBe(0);
    expect(usage.costUsd).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
  });

  it('records the calls of a model the price table lacks without a cost, never as free', async () => {
    expect(
      (await request(stack, 'POST', '/api/v1/profiles', { name: 'unlisted', model: 'claude-unlisted-1' }))
        .status,
    ).toBe(201);
    const done = await run({ prompt: 'hello', scenario: 'reply', profile: 'unlisted' });
    expect(done.status).toBe('COMPLETED');
    const usage = await usageOf(done.id);
    // The main loop's calls name the profile's model; the CLI's side calls its own small one.
    expect(usage.unpricedCalls).toBeGreaterThanOrEqual(1);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.costUsd).toBeLessThan(done.costUsd!);
  });

  it("stops a task at its profile's budget: FAILED with the budget named, after at most one call past it", async () => {
    expect((await request(stack, 'POST', '/api/v1/profiles', { name: 'budgeted' })).status).toBe(201);
    // edit-file's calls cost about $0.0089 each: the second crosses the limit, the third is refused.
    const created = await request(stack, 'POST', '/api/v1/budgets', {
      scope: 'profile',
      profile: 'budgeted',
      limitUsd: 0.012,
    });
    expect(created.status).toBe(201);
    const budget = created.body as Budget;
    expect(budget).toMatchObject({ scope: 'profile', profile: 'budgeted', period: 'total', spentUsd: 0 });

    const done = await run({ prompt: 'edit the file', scenario: 'edit-file', profile: 'budgeted' });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe(`budget-exceeded: ${budget.label}`);
    const usage = await usageOf(done.id);
    const mostCostly = 0.0089 + 1e-9;
    expect(usage.costUsd).toBeGreaterThanOrEqual(0.012);
    expect(usage.costUsd).toBeLessThanOrEqual(0.012 + mostCostly);
    const listed = (await request(stack, 'GET', '/api/v1/budgets')).body as { items: Budget[] };
    expect(listed.items.find((item) => item.id === budget.id)?.spentUsd).toBeCloseTo(usage.costUsd, 12);

    // The next task on that profile is refused at its first call.
    const next = await run({ prompt: 'again', scenario: 'reply', profile: 'budgeted' });
    expect(next).toMatchObject({ status: 'FAILED', error: `budget-exceeded: ${budget.label}` });
    expect((await usageOf(next.id)).calls).toBe(0);
  });

  it.each([
    [{ scope: 'project', limitUsd: -1 }, 'limitUsd'],
    [{ scope: 'galaxy', limitUsd: 1 }, 'scope'],
    [{ scope: 'project' }, 'limitUsd'],
    [{ scope: 'profile', limitUsd: 1 }, 'profile'],
    [{ scope: 'task', limitUsd: 1 }, 'target'],
    [{ scope: 'project', limitUsd: 1, period: 'week' }, 'period'],
  ])('refuses a budget %j naming %s, and stores nothing', async (body, field) => {
    const before = ((await request(stack, 'GET', '/api/v1/budgets')).body as { items: Budget[] }).items
      .length;
    const refused = await request(stack, 'POST', '/api/v1/budgets', body);
    expect(refused.status).toBe(400);
    expect((refused.body as Problem).errors?.map((error) => error.field)).toContain(field);
    expect(((await request(stack, 'GET', '/api/v1/budgets')).body as { items: Budget[] }).items).toHaveLength(
      before,
    );
  });

  it("refuses an installation budget to a project's token, and a budget on a task it cannot see", async () => {
    const installation = await request(stack, 'POST', '/api/v1/budgets', {
      scope: 'installation',
      limitUsd: 5,
    });
    expect(installation.status).toBe(403);
    const unseen = await request(stack, 'POST', '/api/v1/budgets', {
      scope: 'task',
      target: 'nosuchtask',
      limitUsd: 1,
    });
    expect(unseen.status).toBe(404);
  });

  it("keeps another project's budgets and usage from its members, and budgets from a viewer's hands", async () => {
    // A budget and a task of the default project…
    const budget = (
      await request(stack, 'POST', '/api/v1/budgets', { scope: 'project', period: 'month', limitUsd: 100 })
    ).body as Budget;
    const task = await runTask(stack, { prompt: 'hello', scenario: 'reply' });
    // …as an admin of another project sees them: not at all.
    const outsider = await signedInMember(stack, {
      name: 'otto',
      project: 'elsewhere',
      role: 'admin',
      create: true,
    });
    const seen = (await request(stack, 'GET', '/api/v1/budgets', undefined, outsider)).body as {
      items: Budget[];
    };
    expect(seen.items.map((item) => item.id)).not.toContain(budget.id);
    expect((await request(stack, 'GET', `/api/v1/tasks/${task.id}/usage`, undefined, outsider)).status).toBe(
      404,
    );
    expect((await request(stack, 'DELETE', `/api/v1/budgets/${budget.id}`, undefined, outsider)).status).toBe(
      404,
    );
    expect(
      (
        await request(
          stack,
          'POST',
          '/api/v1/budgets?project=default',
          { scope: 'project', limitUsd: 1 },
          outsider,
        )
      ).status,
    ).toBe(404);
    // A viewer of the default project sees its budgets, and may neither make nor remove one.
    const viewer = await signedInMember(stack, { name: 'vera', project: 'default', role: 'viewer' });
    const listed = (await request(stack, 'GET', '/api/v1/budgets', undefined, viewer)).body as {
      items: Budget[];
    };
    expect(listed.items.map((item) => item.id)).toContain(budget.id);
    expect(
      (await request(stack, 'POST', '/api/v1/budgets', { scope: 'project', limitUsd: 1 }, viewer)).status,
    ).toBe(403);
    expect((await request(stack, 'DELETE', `/api/v1/budgets/${budget.id}`, undefined, viewer)).status).toBe(
      403,
    );
    expect(
      ((await request(stack, 'GET', '/api/v1/budgets')).body as { items: Budget[] }).items,
    ).toContainEqual(expect.objectContaining({ id: budget.id }));
    // Its admins may remove it.
    expect((await request(stack, 'DELETE', `/api/v1/budgets/${budget.id}`)).status).toBe(204);
  });

  it('refuses the usage of a task that does not exist', async () => {
    const missing = await request(stack, 'GET', '/api/v1/tasks/nosuchtask/usage');
    expect(missing.status).toBe(404);
  });
});
