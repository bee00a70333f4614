import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Budget, ModelUsage, Task } from '@hangar/contracts';
import {
  freePort,
  SERVICES,
  ServiceStack,
  startPrometheus,
  type Prometheus,
  type PrometheusSample,
} from '@hangar/testing';
import { request, runTask } from './support';

// A real Prometheus scraping every service (docs/governance.md, docs/observability.md): what an
// operator's dashboards and alerts read is what the API says a task cost, a budget spent, and how
// the tasks ended.
describe('prometheus: model calls, budgets and ended tasks as scraped', () => {
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
      targets: Object.fromEntries(
        SERVICES.map((service) => [service, [`127.0.0.1:${stack.ports.get(service)}`]]),
      ),
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

  it('scrapes every service: their /metrics parse', async () => {
    const up = await settled(
      'up',
      (samples) => samples.length === SERVICES.length && samples.every((s) => s.value === 1),
    );
    expect(up.map((sample) => [sample.metric.job, sample.value]).sort()).toEqual(
      [...SERVICES].sort().map((service) => [service, 1]),
    );
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

  it('shows how the tasks ended, what they cost and which tools they called, as the API does', async () => {
    const wrote = await runTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    const failed = await runTask(stack, { prompt: 'Fail please', scenario: 'fail' });
    expect([wrote.status, failed.status]).toEqual(['COMPLETED', 'FAILED']);
    const listed = (await request(stack, 'GET', '/api/v1/tasks?limit=100')).body as { items: Task[] };
    const ended = listed.items.filter((task) => task.finishedAt !== null);
    const completed = ended.filter((task) => task.status === 'COMPLETED');
    expect(completed.length).toBeGreaterThanOrEqual(2);

    const endings = await settled(
      'hangar_tasks_ended_total{job="metrics"}',
      (samples) => samples.reduce((sum, sample) => sum + sample.value, 0) === ended.length,
    );
    expect(
      endings.map((sample) => [sample.metric.status, sample.metric.reason ?? '', sample.value]).sort(),
    ).toEqual([
      ['COMPLETED', '', completed.length],
      ['FAILED', 'exit-code', 1],
    ]);
    for (const sample of endings)
      expect(sample.metric).toMatchObject({ project: 'default', profile: 'default' });

    const cost = ended.reduce((sum, task) => sum + (task.costUsd ?? 0), 0);
    const costs = await settled('sum(hangar_task_cost_usd_total)', valueNear(cost));
    expect(costs[0]?.value).toBeCloseTo(cost, 9);
    const output = ended.reduce((sum, task) => sum + (task.usage?.outputTokens ?? 0), 0);
    expect((await settled('sum(hangar_task_tokens_total{kind="output"})', valueNear(output)))[0]?.value).toBe(
      output,
    );
    const writes = await settled(
      'hangar_task_tool_calls_total{tool="Write"}',
      (samples) => samples.length === 1,
    );
    expect(writes.map((sample) => sample.value)).toEqual([1]);
    // Every ended task here started: each has its run time observed once.
    const runs = await settled(
      'sum(hangar_task_run_seconds_count)',
      (samples) => samples[0]?.value === ended.length,
    );
    expect(runs[0]?.value).toBe(ended.length);
  });
});
