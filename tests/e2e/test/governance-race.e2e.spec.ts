import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_SCENARIOS_DIR, claudeCallCostUsd, loadScenario, stepUsage } from '@hangar/agents';
import type { Budget, ModelUsage, Task } from '@hangar/contracts';
import { createPrismaClient, type PrismaClient } from '@hangar/db';
import { SERVICES, ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, request } from './support';

const RUNNERS = ['runner-a', 'runner-b'];
// Slots for every task at once on both runners, so their calls race rather than queue.
const SLOTS = 5;
const TASKS = RUNNERS.length * SLOTS;

// Two runners' model gateways admit calls against one project budget through one Redis counter
// (docs/governance.md): however their calls interleave, the budget is overspent by at most one
// call, and every task it stopped says so.
describe('governance: two runners racing on one budget', () => {
  let stack: ServiceStack;
  let prisma: PrismaClient;
  let limitUsd: number;

  beforeAll(async () => {
    stack = await ServiceStack.create('governance-race');
    prisma = createPrismaClient(stack.database.url);
    // edit-file, each answer 2 s late (every CLI has asked by the time the first call ends, and
    // the calls admitted after it are in flight together, on both runners), its calls getting
    // costlier as an agent's do: a cheap first one, then each reading 40,000 tokens (fewer than
    // the bytes of Claude Code's request, as a real model's input always is).
    const scenarios = path.join(stack.dataDir, 'scenarios');
    mkdirSync(scenarios, { recursive: true });
    const editFile = JSON.parse(readFileSync(path.join(BUILTIN_SCENARIOS_DIR, 'edit-file.json'), 'utf8')) as {
      steps: Record<string, unknown>[];
    };
    writeFileSync(
      path.join(scenarios, 'edit-file-slowly.json'),
      JSON.stringify({
        ...editFile,
        steps: editFile.steps.map((step, index) => ({
          ...step,
          delayMs: 2000,
          usage:
            index === 0
              ? { inputTokens: 100, outputTokens: 10, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 }
              : {
                  inputTokens: 40_000,
                  outputTokens: 80,
                  cacheReadInputTokens: 0,
                  cacheCreationInputTokens: 0,
                },
        })),
      }),
    );
    // Room for eight and a half of its costliest calls (about $0.16 each): each call in flight
    // holds what it may cost at its worst (its request's bytes as input tokens, and output), so
    // a few are in flight at once, on both runners, until what is left is room for one.
    const scenario = await loadScenario('edit-file-slowly', scenarios);
    const costliest = Math.max(...scenario.steps.map((step) => claudeCallCostUsd(stepUsage(scenario, step))));
    limitUsd = Number((costliest * 8.5).toFixed(6));

    await stack.start(['scripted-model', ...SERVICES.filter((name) => name !== 'agent-runner')], {
      SCRIPTED_MODEL_SCENARIOS_DIR: scenarios,
    });
    await stack.start(['agent-runner'], { RUNNER_ID: RUNNERS[0]!, RUNNER_SLOTS: String(SLOTS) });
    await stack.startRunner(RUNNERS[1]!, { RUNNER_ID: RUNNERS[1]!, RUNNER_SLOTS: String(SLOTS) });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await stack?.dispose();
  });

  it("never overspends by more than one call's cost, and stops the rest with the budget named", async () => {
    const created = await request(stack, 'POST', '/api/v1/budgets', {
      scope: 'project',
      period: 'month',
      limitUsd,
    });
    expect(created.status).toBe(201);
    const budget = created.body as Budget;

    const submitted = await Promise.all(
      Array.from({ length: TASKS }, (_, index) =>
        createTask(stack, { prompt: `edit the file (${index})`, scenario: 'edit-file-slowly' }),
      ),
    );
    const ids = submitted.map((task) => task.id);
    const followers = submitted.map((task) => follow(stack, task.id));
    await Promise.all(followers.map((follower) => follower.finished));
    for (const follower of followers) follower.close();
    const ended: Task[] = await Promise.all(ids.map((id) => getTask(stack, id)));

    // Both runners ran tasks, and had calls in flight at the same time: the race is between
    // two gateways, not within one. The API does not show a task's runner; the database does.
    const runnerOf = new Map(
      (await prisma.task.findMany({ where: { id: { in: ids } }, select: { id: true, runnerId: true } })).map(
        (row) => [row.id, row.runnerId],
      ),
    );
    expect(new Set(runnerOf.values())).toEqual(new Set(RUNNERS));
    const calls = await prisma.modelCall.findMany({ where: { taskId: { in: ids } } });
    const overlapping = calls.some((call) =>
      calls.some(
        (other) =>
          runnerOf.get(other.taskId) !== runnerOf.get(call.taskId) &&
          other.startedAt < call.finishedAt &&
          call.startedAt < other.finishedAt,
      ),
    );
    expect(overlapping).toBe(true);

    const usages = await Promise.all(
      ids.map(async (id) => (await request(stack, 'GET', `/api/v1/tasks/${id}/usage`)).body as ModelUsage),
    );
    expect(usages.map((usage) => usage.unpricedCalls)).toEqual(ids.map(() => 0));
    const spent = usages.reduce((total, usage) => total + usage.costUsd, 0);
    const costliestCall = Math.max(...calls.map((call) => call.costUsd ?? 0));
    expect(spent).toBeGreaterThanOrEqual(limitUsd);
    expect(spent).toBeLessThanOrEqual(limitUsd + costliestCall + 1e-12);

    // The limit stops most tasks; whatever did not complete was stopped by it, nothing else.
    const stopped = ended.filter((task) => task.status !== 'COMPLETED');
    expect(stopped.length).toBeGreaterThan(0);
    for (const task of stopped)
      expect({ id: task.id, status: task.status, error: task.error }).toEqual({
        id: task.id,
        status: 'FAILED',
        error: `budget-exceeded: ${budget.label}`,
      });

    const listed = (await request(stack, 'GET', '/api/v1/budgets')).body as { items: Budget[] };
    expect(listed.items.find((item) => item.id === budget.id)?.spentUsd).toBeCloseTo(spent, 12);
  }, 240_000);
});
