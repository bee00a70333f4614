import type { ModelUsage } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { request, runTask } from './support';

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

  it('refuses the usage of a task that does not exist', async () => {
    const missing = await request(stack, 'GET', '/api/v1/tasks/nosuchtask/usage');
    expect(missing.status).toBe(404);
  });
});
