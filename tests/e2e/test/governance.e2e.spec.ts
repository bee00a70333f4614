import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  NOTIFICATION_SIGNATURE_HEADER,
  type Budget,
  type CreatedApiToken,
  type ModelUsage,
  type Notification,
  type Problem,
  type Task,
  type TaskEventPage,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { asInstanceAdmin, follow, getTask, request, runTask, signedInMember, waitUntil } from './support';

const HOOK_SECRET = 'a-secret-of-the-notification-hook';

// Every model call an agent makes goes through the runner's model gateway, which meters it
// (docs/governance.md): the real CLIs against the scripted model, with the runner's sandbox on.
describe('governance: model calls metered', () => {
  let stack: ServiceStack;
  // The installation's notification hook: what it was sent, with its signature header.
  let hook: Server;
  const notified: { body: string; signature: string | undefined }[] = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const signature = req.headers[NOTIFICATION_SIGNATURE_HEADER];
        notified.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: typeof signature === 'string' ? signature : undefined,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    stack = await ServiceStack.create('governance', {
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hangar`,
      NOTIFY_WEBHOOK_SECRET: HOOK_SECRET,
    });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
    await new Promise((resolve) => hook?.close(resolve));
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
    // A runner starting now says so at once, naming the model and the profile that uses it.
    const late = await stack.startRunner('late-runner', { RUNNER_ID: 'late-runner' });
    const warning = JSON.parse(await late.waitForLine((line) => line.includes('claude-unlisted-1'))) as {
      level: number;
      msg: string;
    };
    expect(warning.level).toBe(40);
    expect(warning.msg).toContain('no price in the price table');
    expect(warning.msg).toContain('"claude-unlisted-1" (default/unlisted)');
    await stack.stop('late-runner');
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

  // A task started with these headers (a user's session, a token), followed to its end.
  const runAs = async (headers: Record<string, string>, body: Record<string, unknown>): Promise<Task> => {
    const created = await request(stack, 'POST', '/api/v1/tasks', body, headers);
    expect(created.status).toBe(201);
    const follower = follow(stack, (created.body as Task).id);
    await follower.finished;
    follower.close();
    return getTask(stack, (created.body as Task).id);
  };

  it("stops the tasks of a user at that user's budget in the project, and no one else's", async () => {
    const ursula = await signedInMember(stack, { name: 'ursula', project: 'default', role: 'operator' });
    const created = await request(stack, 'POST', '/api/v1/budgets', {
      scope: 'user',
      user: 'Ursula@example.com',
      period: 'day',
      limitUsd: 0.000001,
    });
    expect(created.status).toBe(201);
    const budget = created.body as Budget;
    expect(budget).toMatchObject({
      scope: 'user',
      user: 'ursula@example.com',
      project: 'default',
      target: null,
    });
    expect(budget.label).toContain('user ursula@example.com in project "default"');

    // Her first call passes (nothing spent yet) and spends the budget; the next is refused.
    const hers = await runAs(ursula, { prompt: 'edit the file', scenario: 'edit-file' });
    expect(hers).toMatchObject({ status: 'FAILED', error: `budget-exceeded: ${budget.label}` });
    expect((await usageOf(hers.id)).calls).toBe(1);
    // A token she makes is hers too.
    const token = (await request(stack, 'POST', '/api/v1/tokens', { name: 'ursula-ci' }, ursula))
      .body as CreatedApiToken;
    const byToken = await runAs(
      { authorization: `Bearer ${token.token}` },
      { prompt: 'hi', scenario: 'reply' },
    );
    expect(byToken).toMatchObject({ status: 'FAILED', error: `budget-exceeded: ${budget.label}` });
    expect((await usageOf(byToken.id)).calls).toBe(0);
    // Someone else's task runs.
    expect((await runTask(stack, { prompt: 'hi', scenario: 'reply' })).status).toBe('COMPLETED');
    expect((await request(stack, 'DELETE', `/api/v1/budgets/${budget.id}`)).status).toBe(204);
  });

  it("stops the tasks started with an API token at the token's budget", async () => {
    const made = await request(
      stack,
      'POST',
      '/api/v1/tokens?project=default',
      { name: 'nightly' },
      await asInstanceAdmin(stack),
    );
    expect(made.status).toBe(201);
    const token = made.body as CreatedApiToken;
    const created = await request(stack, 'POST', '/api/v1/budgets', {
      scope: 'token',
      target: token.id,
      limitTokens: 1,
    });
    expect(created.status).toBe(201);
    const budget = created.body as Budget;
    expect(budget).toMatchObject({ scope: 'token', target: token.id, user: null });
    expect(budget.label).toContain(`token nightly (${token.prefix}…) of project "default"`);
    const stopped = await runAs(
      { authorization: `Bearer ${token.token}` },
      { prompt: 'edit', scenario: 'edit-file' },
    );
    expect(stopped).toMatchObject({ status: 'FAILED', error: `budget-exceeded: ${budget.label}` });
    const listed = (await request(stack, 'GET', '/api/v1/budgets')).body as { items: Budget[] };
    const usage = await usageOf(stopped.id);
    expect(listed.items.find((item) => item.id === budget.id)?.spentTokens).toBe(
      usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    );
    // The same work with another token is not its business.
    expect((await runTask(stack, { prompt: 'edit', scenario: 'edit-file' })).status).toBe('COMPLETED');
    expect((await request(stack, 'DELETE', `/api/v1/budgets/${budget.id}`)).status).toBe(204);
  });

  it.each([
    [{ scope: 'user', user: 'nobody@example.com', limitUsd: 1 }, 404, 'user'],
    [{ scope: 'user', limitUsd: 1 }, 400, 'user'],
    [{ scope: 'project', user: 'admin@example.com', limitUsd: 1 }, 400, 'user'],
    [{ scope: 'token', target: 'nosuchtoken', limitUsd: 1 }, 404, 'target'],
    [{ scope: 'token', limitUsd: 1 }, 400, 'target'],
  ])('refuses the budget %j with %d naming %s', async (body, status, field) => {
    const refused = await request(stack, 'POST', '/api/v1/budgets', body);
    expect(refused.status).toBe(status);
    expect((refused.body as Problem).errors?.map((error) => error.field)).toContain(field);
  });

  it('warns once when a budget reaches its soft limit: an event on the task, and the notification hook', async () => {
    expect((await request(stack, 'POST', '/api/v1/profiles', { name: 'watched' })).status).toBe(201);
    // edit-file's first call costs about $0.0089: the second reaches 1% of $1.
    const budget = (
      await request(stack, 'POST', '/api/v1/budgets', {
        scope: 'profile',
        profile: 'watched',
        limitUsd: 1,
        softPercent: 1,
      })
    ).body as Budget;
    const done = await run({ prompt: 'edit the file', scenario: 'edit-file', profile: 'watched' });
    expect(done.status).toBe('COMPLETED');
    const events = ((await request(stack, 'GET', `/api/v1/tasks/${done.id}/events`)).body as TaskEventPage)
      .items;
    const warnings = events.filter((event) => event.type === 'budget.warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.data).toMatchObject({
      budgetId: budget.id,
      label: budget.label,
      softPercent: 1,
      limitUsd: 1,
    });
    const warned = warnings[0]!.data as { spentUsd: number };
    expect(warned.spentUsd).toBeGreaterThanOrEqual(0.01);
    // Before the task's end.
    expect(warnings[0]!.seq).toBeLessThan(events.find((event) => event.type === 'result')!.seq);

    await waitUntil(
      () => notified.some((sent) => sent.body.includes(budget.id)),
      10_000,
      'the notification hook told of the warning',
    );
    const sent = notified.find((candidate) => candidate.body.includes(budget.id))!;
    expect(sent.signature).toBe(
      `sha256=${createHmac('sha256', HOOK_SECRET).update(sent.body).digest('hex')}`,
    );
    expect(JSON.parse(sent.body) as Notification).toMatchObject({
      kind: 'budget.warning',
      budget: { id: budget.id, scope: 'profile', project: 'default', softPercent: 1, limitUsd: 1 },
      spentUsd: warned.spentUsd,
      task: { id: done.id, project: 'default' },
    });

    // Past it, the next task on that profile is not warned again this period.
    const next = await run({ prompt: 'edit the file', scenario: 'edit-file', profile: 'watched' });
    const nextEvents = (
      (await request(stack, 'GET', `/api/v1/tasks/${next.id}/events`)).body as TaskEventPage
    ).items;
    expect(nextEvents.filter((event) => event.type === 'budget.warning')).toHaveLength(0);
    expect(notified.filter((candidate) => candidate.body.includes(budget.id))).toHaveLength(1);
  });

  it('refuses the usage of a task that does not exist', async () => {
    const missing = await request(stack, 'GET', '/api/v1/tasks/nosuchtask/usage');
    expect(missing.status).toBe(404);
  });
});
