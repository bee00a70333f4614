import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Budget, ModelUsage } from '@hangar/contracts';
import {
  freePort,
  ServiceStack,
  startPrometheus,
  type Prometheus,
  type PrometheusSample,
} from '@hangar/testing';
import { request, runTask } from './support';

// A real Prometheus scraping the runner and the orchestrator (docs/governance.md): what an
// operator's dashboards and alerts read is what the API says a task cost and a budget spent.
describe('prometheus: model calls and budgets as scraped', () => {
  let stack: ServiceStack;
  let prometheus: Prometheus | undefined;
  let dir: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('prometheus');
    await stack.start();
    dir = await mkdtemp(path.join(tmpdir(), 'hangar-prometheus-'));
    prometheus = await startPrometheus({
      dir,
      port: await freePort(),
      targets: {
        'agent-runner': [`127.0.0.1:${stack.ports.get('agent-runner')}`],
        orchestrator: [`127.0.0.1:${stack.ports.get('orchestrator')}`],
      },
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await stack?.dispose();
  });

  // Prometheus has a value only after its next scrape: ask until `holds`, then answer the last
  // answer either way, so a value that never comes fails the assertions with what was there.
  async function settled(
    promql: string,
    holds: (samples: PrometheusSample[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<PrometheusSample[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const samples = await prometheus!.query(promql);
      if (holds(samples) || Date.now() > deadline) return samples;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const valueNear = (expected: number) => (samples: PrometheusSample[]) =>
    samples.length === 1 && Math.abs(samples[0]!.value - expected) < 1e-12;

  it('scrapes both services: their /metrics parse', async () => {
    const up = await settled('up', (samples) => samples.length === 2 && samples.every((s) => s.value === 1));
    expect(up.map((sample) => [sample.metric.job, sample.value]).sort()).toEqual([
      ['agent-runner', 1],
      ['orchestrator', 1],
    ]);
  });

  it("shows a project budget's limit and spend, and the runner's cost and tokens, as the API does", async () => {
    const created = await request(stack, 'POST', '/api/v1/budgets', {
      scope: 'project',
      period: 'month',
      limitUsd: 3,
    });
    expect(created.status).toBe(201);
    const budget = created.body as Budget;
    const task = await runTask(stack, { prompt: 'hello', scenario: 'reply' });
    expect(task.status).toBe('COMPLETED');
    const usage = (await request(stack, 'GET', `/api/v1/tasks/${task.id}/usage`)).body as ModelUsage;
    expect(usage.costUsd).toBeGreaterThan(0);

    const limit = await settled(`hangar_budget_limit_usd{budget="${budget.id}"}`, valueNear(3));
    expect(limit).toHaveLength(1);
    expect(limit[0]!.value).toBe(3);
    // An empty label (the project budget's target) is no label to Prometheus.
    expect(limit[0]!.metric).toMatchObject({
      job: 'orchestrator',
      scope: 'project',
      project: 'default',
      period: 'month',
    });
    expect(limit[0]!.metric).not.toHaveProperty('target');

    const spent = await settled(`hangar_budget_spent_usd{budget="${budget.id}"}`, valueNear(usage.costUsd));
    expect(spent).toHaveLength(1);
    expect(spent[0]!.value).toBeCloseTo(usage.costUsd, 12);
    expect(spent[0]!.metric).toMatchObject({ scope: 'project', project: 'default' });

    // The stack's only task: the runner's counters hold its calls alone.
    const cost = await settled(
      'sum(hangar_model_cost_usd_total{project="default"})',
      valueNear(usage.costUsd),
    );
    expect(cost).toHaveLength(1);
    expect(cost[0]!.value).toBeCloseTo(usage.costUsd, 12);
    const output = await settled(
      'sum(hangar_model_tokens_total{kind="output"})',
      valueNear(usage.outputTokens),
    );
    expect(output.map((sample) => sample.value)).toEqual([usage.outputTokens]);

    const series = await prometheus!.query('hangar_model_cost_usd_total');
    expect(series.length).toBeGreaterThanOrEqual(1);
    for (const sample of series)
      expect(sample.metric).toMatchObject({
        job: 'agent-runner',
        project: 'default',
        profile: task.profile,
        provider: 'claude',
      });
  });
});
