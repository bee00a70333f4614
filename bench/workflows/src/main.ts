import os from 'node:os';
import { parseArgs } from 'node:util';
import { QueueEvents } from 'bullmq';
import { Client } from 'pg';
import { taskQueueName, WORKFLOW_QUEUE, type Workflow, type WorkflowRun } from '@hangar/contracts';
import { createRedis } from '@hangar/redis';
import { BareClaude, redisUrl, ServiceStack } from '@hangar/testing';

// What the workflow engine adds to each step, on the whole stack as `hangar up` runs it (real
// gateway, orchestrator, agent-runner with its sandbox, the real Claude Code CLI against the
// scripted model's `reply` scenario — an agent that answers at once):
//   seed → each (forEach over --steps items, --concurrency at a time) → fan_in
// A step is ready when the task that frees it ends (its finished_at, in PostgreSQL): the seed's
// for the first --concurrency items, then each item's end frees the next item. Its task is
// queued when its job is added to the runners' queue (BullMQ's `added` event; its stream id is
// the Redis server's clock in ms). Both clocks are this machine's. The same number of CLI runs,
// bare (no Hangar, no sandbox, --slots at a time), is measured in the same run for comparison.

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '10' },
    slots: { type: 'string', default: '2' },
    'agent-nice': { type: 'string', default: '10' },
    listen: { type: 'string', default: 'true' },
    bare: { type: 'boolean', default: true },
    'no-bare': { type: 'boolean', default: false },
  },
});
const steps = positiveInteger(values.steps, '--steps');
const concurrency = positiveInteger(values.concurrency, '--concurrency');
const slots = positiveInteger(values.slots, '--slots');
if (values.listen !== 'true' && values.listen !== 'false') {
  console.error('--listen: say true or false');
  process.exit(2);
}

async function main() {
  const stack = await ServiceStack.create('bench-workflows', {
    LOG_LEVEL: 'warn',
    RUNNER_SLOTS: String(slots),
    RUNNER_AGENT_NICE: values['agent-nice'],
    // false: steps' ends reach the engine through their jobs alone (docs/workflows.md).
    WORKFLOW_LISTEN: values.listen,
    RATE_LIMIT_IP_PER_MINUTE: '0',
    RATE_LIMIT_TOKEN_PER_MINUTE: '0',
  });
  const connection = createRedis(redisUrl());
  const added = new Map<string, number>();
  const events = new QueueEvents(taskQueueName({ pool: 'default' }), {
    connection,
    prefix: `${stack.redisPrefix}:queue`,
  });
  events.on('added', ({ jobId }, id) => added.set(jobId, Number(id.split('-')[0])));
  // The engine's own inbox: when a step's task's end was told to it, and when it took that up.
  const inboxConnection = createRedis(redisUrl());
  const inbox = new QueueEvents(WORKFLOW_QUEUE, {
    connection: inboxConnection,
    prefix: `${stack.redisPrefix}:queue`,
  });
  const told = new Map<string, number>();
  const taken = new Map<string, number>();
  inbox.on('added', ({ jobId }, id) => told.set(jobId, Number(id.split('-')[0])));
  inbox.on('active', ({ jobId }, id) => taken.set(jobId, Number(id.split('-')[0])));
  try {
    await events.waitUntilReady();
    await inbox.waitUntilReady();
    await stack.start(['scripted-model', 'gateway', 'orchestrator', 'agent-runner']);
    const workflow = (await api(stack, 'POST', '/api/v1/workflows', {
      name: 'fan-out',
      inputs: { items: { type: 'array' } },
      steps: [
        { id: 'seed', prompt: 'seed', scenario: 'reply' },
        {
          id: 'each',
          needs: ['seed'],
          prompt: 'item {{item}}',
          scenario: 'reply',
          forEach: { items: 'inputs.items', concurrency },
        },
        { id: 'fan_in', needs: ['each'], prompt: 'done', scenario: 'reply' },
      ],
    })) as Workflow;
    const items = Array.from({ length: steps }, (_, index) => index + 1);
    const probe = await startProbe(stack.database.url);
    const started = Date.now();
    const run = (await api(stack, 'POST', `/api/v1/workflows/${workflow.id}/runs`, {
      inputs: { items },
    })) as WorkflowRun;
    let finished: WorkflowRun;
    for (;;) {
      finished = (await api(stack, 'GET', `/api/v1/workflow-runs/${run.id}`)) as WorkflowRun;
      if (finished.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const elapsedMs = Date.now() - started;
    const { roundTrips, commits } = await probe.stop();
    if (finished.status !== 'COMPLETED')
      throw new Error(`the run ended ${finished.status}: ${finished.error}`);
    const { latencies, parts } = await stepLatencies(stack, run.id, added, told, taken);
    const heard = await stepEndsHeard(stack);
    const bare = values.bare && !values['no-bare'] ? await bareRuns(steps + 2) : undefined;

    console.log(`\nbench/workflows on ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
    console.log(`  ${steps}-step fan-out, ${concurrency} at a time, ${slots} runner slots, scenario "reply"`);
    console.log(
      `  run: ${steps + 2} tasks in ${(elapsedMs / 1000).toFixed(1)} s (${((steps + 2) / (elapsedMs / 1000)).toFixed(2)} tasks/s)`,
    );
    if (bare)
      console.log(
        `  bare CLI, same machine, same run: ${steps + 2} runs ${slots} at a time in ${(bare / 1000).toFixed(1)} s (${((steps + 2) / (bare / 1000)).toFixed(2)} runs/s); Hangar/bare time ${(elapsedMs / bare).toFixed(2)}`,
      );
    console.log(
      `  the machine during the run, from an otherwise idle process every 20 ms: a PostgreSQL round trip (SELECT 1) p50 ${quantile(roundTrips, 0.5).toFixed(2)} ms, p90 ${quantile(roundTrips, 0.9).toFixed(2)} ms, p99 ${quantile(roundTrips, 0.99).toFixed(2)} ms; a commit (a one-row UPDATE) p50 ${quantile(commits, 0.5).toFixed(2)} ms, p90 ${quantile(commits, 0.9).toFixed(2)} ms, p99 ${quantile(commits, 0.99).toFixed(2)} ms`,
    );
    console.log(
      `  steps' ends decided: ${heard.notice} heard from PostgreSQL as they committed, ${heard.job} through their jobs (WORKFLOW_LISTEN=${values.listen})`,
    );
    console.log(`  step ready → task queued, ${latencies.length} steps (ms):`);
    for (const [name, q] of [
      ['p50', 0.5],
      ['p90', 0.9],
      ['p99', 0.99],
      ['max', 1],
    ] as const)
      console.log(
        `    ${name.padEnd(4)} ${quantile(latencies, q).toFixed(1)}   (task ended → engine told ${quantile(parts.told, q).toFixed(1)}, → engine took it ${quantile(parts.taken, q).toFixed(1)}, → task queued ${quantile(parts.decided, q).toFixed(1)})`,
      );
  } finally {
    await inbox.close();
    await inboxConnection.quit();
    await events.close();
    await connection.quit();
    await stack.dispose();
  }
}

// How the orchestrator heard the steps' ends it decided (its metrics).
async function stepEndsHeard(stack: ServiceStack): Promise<{ notice: number; job: number }> {
  const text = await (await fetch(`http://127.0.0.1:${stack.ports.get('orchestrator')}/metrics`)).text();
  const count = (heard: string) =>
    Number(
      new RegExp(`^hangar_workflow_step_ends_total\\{heard="${heard}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ??
        0,
    );
  return { notice: count('notice'), job: count('job') };
}

// Each step's wait between being ready and its task's job on the queue. The parts are the
// job's way (a step's end heard from PostgreSQL is decided before its job is told or taken).
async function stepLatencies(
  stack: ServiceStack,
  runId: string,
  added: Map<string, number>,
  told: Map<string, number>,
  taken: Map<string, number>,
): Promise<{ latencies: number[]; parts: { told: number[]; taken: number[]; decided: number[] } }> {
  const client = new Client({ connectionString: stack.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; step: string; finished: Date }>(
      `SELECT id, workflow_step AS step, finished_at AS finished FROM tasks WHERE workflow_run_id = $1`,
      [runId],
    );
    const queuedAt = (taskId: string) => {
      const at = added.get(`${taskId}-a1`);
      if (at === undefined) throw new Error(`no queue event for task ${taskId}`);
      return at;
    };
    const seed = rows.find((row) => row.step === 'seed')!;
    const items = rows.filter((row) => row.step.startsWith('each['));
    const itemNumber = (row: { step: string }) => Number(/\[(\d+)\]/.exec(row.step)![1]);
    // Items start in order; the first `concurrency` are freed by the seed, each later one by the
    // end of an earlier item (the k-th item to end frees item concurrency + k).
    const byStart = [...items].sort((a, b) => itemNumber(a) - itemNumber(b));
    const ended = [...items].sort((a, b) => a.finished.getTime() - b.finished.getTime());
    const latencies: number[] = [];
    const parts = { told: [] as number[], taken: [] as number[], decided: [] as number[] };
    const measure = (freedBy: { id: string; finished: Date }, started: { id: string }) => {
      const ready = freedBy.finished.getTime();
      const job = `task-${freedBy.id}-COMPLETED`;
      const toldAt = told.get(job) ?? ready;
      const takenAt = taken.get(job) ?? toldAt;
      latencies.push(queuedAt(started.id) - ready);
      parts.told.push(toldAt - ready);
      parts.taken.push(takenAt - toldAt);
      parts.decided.push(queuedAt(started.id) - takenAt);
    };
    byStart.forEach((row, index) => measure(index < concurrency ? seed : ended[index - concurrency]!, row));
    measure(
      ended.at(-1)!,
      rows.find((row) => row.step === 'fan_in')!,
    );
    return { latencies, parts };
  } finally {
    await client.end();
  }
}

// What one round trip to PostgreSQL costs on this machine while the run loads it: the floor
// under every statement on a step's path.
async function startProbe(
  databaseUrl: string,
): Promise<{ stop(): Promise<{ roundTrips: number[]; commits: number[] }> }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS bench_probe (n int)');
  await client.query('INSERT INTO bench_probe VALUES (0)');
  const roundTrips: number[] = [];
  const commits: number[] = [];
  let running = true;
  const timed = async (into: number[], statement: string) => {
    const at = performance.now();
    await client.query(statement);
    into.push(performance.now() - at);
  };
  const loop = (async () => {
    while (running) {
      await timed(roundTrips, 'SELECT 1');
      await new Promise((resolve) => setTimeout(resolve, 10));
      await timed(commits, 'UPDATE bench_probe SET n = n + 1');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      return { roundTrips, commits };
    },
  };
}

// The same number of `claude -p` runs with the `reply` scenario, bare: fresh home each, no
// sandbox, `slots` at a time.
async function bareRuns(count: number): Promise<number> {
  const bare = await BareClaude.start('wf');
  try {
    return await bare.burst(count, slots, { prompt: 'item', permissionMode: 'bypassPermissions' });
  } finally {
    await bare.close();
  }
}

async function api(stack: ServiceStack, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${stack.gatewayUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))]!;
}

function positiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    console.error(`${flag} must be a positive whole number, not "${value}"`);
    process.exit(2);
  }
  return parsed;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
