import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { TERMINAL_STATUSES, type TaskStatus } from '@hangar/contracts';
import { BareClaude, SERVICES, ServiceStack } from '@hangar/testing';
import { TopicConnection } from '@hangar/topics';

// One task against the bare CLI (issue 16's measures; docs/benchmarks.md), on the whole stack as
// `hangar up` runs it — gateway, websocket-pool, orchestrator, agent-runner with its sandbox,
// metrics — and the real Claude Code CLI against the scripted model's `reply` scenario:
//   serial   each Hangar task (submit → its first agent event at a Socket.IO client, submit →
//            COMPLETED there) interleaved with the same CLI run bare (fresh home; start → its
//            first output line, start → exit)
//   burst    --burst tasks submitted at once, --slots at a time, against as many bare runs
//            --slots at a time; --bursts rounds of both, the median round's ratio
//   accept   POST /api/v1/tasks at --concurrency for --accept-seconds with no runner taking
//            tasks (after four times as long unmeasured, 20 s at least), then while the runner works through
//            them (once it runs --slots CLIs, after twice as long unmeasured)
//   idle RSS each service's resident memory, started and idle
// Ratios are Hangar ÷ bare, measured in the same run.

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    burst: { type: 'string', default: '24' },
    bursts: { type: 'string', default: '5' },
    slots: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    'accept-seconds': { type: 'string', default: '5' },
    warm: { type: 'string', default: '2' },
  },
});
const runs = positiveInteger(values.runs, '--runs');
const burst = positiveInteger(values.burst, '--burst');
const bursts = positiveInteger(values.bursts, '--bursts');
const slots = positiveInteger(values.slots, '--slots');
const concurrency = positiveInteger(values.concurrency, '--concurrency');
const acceptSeconds = positiveInteger(values['accept-seconds'], '--accept-seconds');
const warmCount = positiveInteger(values.warm, '--warm');

interface Timing {
  firstMs: number;
  doneMs: number;
}

async function main() {
  const stack = await ServiceStack.create('bench-tasks', {
    LOG_LEVEL: 'warn',
    RUNNER_SLOTS: String(slots),
    RATE_LIMIT_IP_PER_MINUTE: '0',
    RATE_LIMIT_TOKEN_PER_MINUTE: '0',
    RUNNER_WARM_MAX: String(warmCount),
  });
  const bare = await BareClaude.start('tasks');
  let connection: TopicConnection | undefined;
  try {
    await stack.start();
    connection = await connect(stack);
    const client = new TaskClient(stack, connection);
    // Each path once before measuring: the first CLI start reads its files from disk.
    await bare.run();
    await client.run();

    const idle = await idleRss(stack);

    // Cold: the default profile keeps no warm CLI (RUNNER_WARM_DEFAULT is 0).
    const hangar: Timing[] = [];
    const cli: Timing[] = [];
    for (let run = 0; run < runs; run += 1) {
      await quiet();
      cli.push(await bare.run());
      await quiet();
      hangar.push(await client.run());
    }

    // Warm: a profile that keeps --warm CLIs; each pair of runs starts once the pool holds them
    // (it refills while the runner is idle, between tasks, as it would between a user's tasks).
    const created = await fetch(`${stack.gatewayUrl}/api/v1/profiles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` },
      body: JSON.stringify({ name: 'bench-warm', warm: warmCount }),
    });
    if (created.status !== 201) throw new Error(`creating the warm profile answered ${created.status}`);
    const warmHangar: Timing[] = [];
    const warmCli: Timing[] = [];
    for (let run = 0; run < runs; run += 1) {
      // Both runs on a quiet machine: not while the pool's CLIs start.
      await poolHolds(stack, warmCount);
      await quiet();
      warmCli.push(await bare.run());
      await quiet();
      warmHangar.push(await client.run('bench-warm'));
    }
    const takes = await runnerSamples(stack, 'hangar_runner_warm_takes_total');
    // The cold runs' (and the warm pool's misses'): whether each found a spare sandbox.
    const spareTakes = await runnerSamples(stack, 'hangar_runner_spare_sandbox_takes_total');
    const phases = await runnerSamples(stack, 'hangar_task_phase_seconds_');

    // Rounds of a Hangar burst then a bare one: identical rounds spread by ±7 % on this machine.
    const rounds: { hangar: number; bare: number; cpu: { name: string; ms: number }[]; bareCpu: number }[] =
      [];
    for (let round = 0; round < bursts; round += 1) {
      await quiet();
      const cpuBefore = cpuTimes(stack);
      const burstStarted = Date.now();
      await Promise.all(Array.from({ length: burst }, () => client.run()));
      const hangarMs = Date.now() - burstStarted;
      const cpu = cpuSpent(cpuBefore, cpuTimes(stack));
      await quiet();
      const bareBefore = cpuTimes(stack);
      const bareMs = await bare.burst(burst, slots);
      const bareCpu = cpuSpent(bareBefore, cpuTimes(stack)).reduce((sum, { ms: spent }) => sum + spent, 0);
      rounds.push({ hangar: burst / (hangarMs / 1000), bare: burst / (bareMs / 1000), cpu, bareCpu });
    }
    const medianRound = [...rounds].sort((a, b) => a.hangar / a.bare - b.hangar / b.bare)[
      Math.floor((rounds.length - 1) / 2)
    ]!;
    const burstCpu = medianRound.cpu;
    const burstSpareTakes = await runnerSamples(stack, 'hangar_runner_spare_sandbox_takes_total');

    // The gateway's own rate: no runner takes the tasks, then one that works through them.
    await stack.stop('agent-runner');
    // Unmeasured first, four times as long: the gateway has served a few dozen requests so far,
    // and the first ~15 s of a 16-client load cost it up to twice the CPU per request of the next
    // ones (V8 compiling its hot paths, its heap growing). A gateway taking hundreds of tasks a
    // second is past that. (At least 20 s: with --accept-seconds 2, 8 s unmeasured left the
    // measured window in that phase — 525/s at p99 61 ms where 20 s gave 724–829/s at 42–48 ms.)
    await acceptRate(stack, concurrency, Math.max(20, 4 * acceptSeconds));
    const paused = await acceptRate(stack, concurrency, acceptSeconds);
    await stack.start(['agent-runner']);
    // Measured once the runner runs its CLIs, after twice as long unmeasured (the runner's own
    // start and first tasks take the cores the while).
    await agentsRunning(stack, slots);
    await acceptRate(stack, concurrency, 2 * acceptSeconds);
    const busy = await acceptRate(stack, concurrency, acceptSeconds);

    const median = (timings: Timing[], key: keyof Timing) =>
      quantile(
        timings.map((t) => t[key]),
        0.5,
      );
    const first = { hangar: median(hangar, 'firstMs'), bare: median(cli, 'firstMs') };
    const done = { hangar: median(hangar, 'doneMs'), bare: median(cli, 'doneMs') };
    const warmFirst = { hangar: median(warmHangar, 'firstMs'), bare: median(warmCli, 'firstMs') };
    const warmDone = { hangar: median(warmHangar, 'doneMs'), bare: median(warmCli, 'doneMs') };
    const burstRate = { hangar: medianRound.hangar, bare: medianRound.bare };
    console.log(`\nbench/tasks on ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}; scenario "reply"`);
    console.log('| measure | bare CLI | Hangar | Hangar ÷ bare |');
    console.log('| --- | --- | --- | --- |');
    for (const [label, measured] of [
      ['cold', { first, done }],
      [`warm (${warmCount} per runner)`, { first: warmFirst, done: warmDone }],
    ] as const) {
      console.log(
        `| ${label}: start → first agent output (median of ${runs}; Hangar: submit → first event at a Socket.IO client) | ${ms(measured.first.bare)} | ${ms(measured.first.hangar)} | ${(measured.first.hangar / measured.first.bare).toFixed(2)} |`,
      );
      console.log(
        `| ${label}: start → done (median of ${runs}; Hangar: submit → COMPLETED at the client) | ${ms(measured.done.bare)} | ${ms(measured.done.hangar)} | ${(measured.done.hangar / measured.done.bare).toFixed(2)} |`,
      );
    }
    console.log(
      `| ${burst} at once, ${slots} at a time (median of ${bursts} rounds) | ${burstRate.bare.toFixed(2)} runs/s | ${burstRate.hangar.toFixed(2)} tasks/s | ${(burstRate.hangar / burstRate.bare).toFixed(2)} |`,
    );
    for (const [label, rate] of [
      ['no runner taking tasks', paused],
      [`a runner running ${slots} CLIs`, busy],
    ] as const)
      console.log(
        `| accepting POST /api/v1/tasks at concurrency ${concurrency}, ${label} | — | ${rate.perSecond.toFixed(0)}/s, p50 ${ms(rate.p50)}, p99 ${ms(rate.p99)} | — |`,
      );
    console.log(
      `| idle RSS | — | ${idle.map(({ name, mb }) => `${name} ${mb.toFixed(0)} MB`).join(', ')} | — |`,
    );
    console.log(
      `\nserial runs, each: bare first ${cli.map((t) => t.firstMs).join(' ')} ms; Hangar cold first ${hangar.map((t) => t.firstMs).join(' ')} ms; warm first ${warmHangar.map((t) => t.firstMs).join(' ')} ms, done ${warmHangar.map((t) => t.doneMs).join(' ')} ms`,
    );
    console.log(
      `\nbursts, each round: ${rounds.map((round) => `${round.hangar.toFixed(2)}/${round.bare.toFixed(2)} = ${(round.hangar / round.bare).toFixed(2)}`).join('; ')}`,
    );
    console.log(
      `\nCPU per task in the median burst (ms): ${burstCpu.map(({ name, ms: spent }) => `${name} ${Math.round(spent / burst)}`).join(', ')}; the whole machine ${Math.round(burstCpu.reduce((sum, { ms: spent }) => sum + spent, 0) / burst)} per task, ${Math.round(medianRound.bareCpu / burst)} per bare run`,
    );
    for (const [label, rate] of [
      ['no runner', paused],
      ['a runner busy', busy],
    ] as const)
      console.log(
        `\nCPU per accepted task, ${label} (ms): ${rate.cpu.map(({ name, ms: spent }) => `${name} ${spent.toFixed(2)}`).join(', ')}`,
      );
    console.log(`\nwarm pool takes: ${takes.map(({ labels, value }) => `${labels} ${value}`).join('; ')}`);
    console.log(
      `spare sandbox takes (serial runs): ${spareTakes.map(({ labels, value }) => `${labels} ${value}`).join('; ')}`,
    );
    console.log(
      `spare sandbox takes (bursts): ${burstSpareTakes
        .map(({ labels, value }) => {
          const serial = spareTakes.find((take) => take.labels === labels)?.value ?? 0;
          return `${labels} ${value - serial}`;
        })
        .join('; ')}`,
    );
    console.log('\nphases on the runner (mean; hangar_task_phase_seconds):');
    const sums = phases.filter(({ name }) => name.endsWith('_sum'));
    for (const { labels, value } of sums) {
      const count = phases.find(
        ({ name, labels: other }) => name.endsWith('_count') && other === labels,
      )?.value;
      if (count) console.log(`  ${labels}: ${ms((value / count) * 1000)}`);
    }
  } finally {
    connection?.close();
    await bare.close();
    await stack.dispose();
  }
}

// Tasks submitted through the REST API and followed over Socket.IO, as a client of Hangar would:
// one connection, a topic per task (@hangar/topics).
class TaskClient {
  constructor(
    private readonly stack: ServiceStack,
    private readonly connection: TopicConnection,
  ) {}

  async run(profile?: string): Promise<Timing> {
    const started = performance.now();
    const response = await fetch(`${this.stack.gatewayUrl}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.stack.adminToken}` },
      body: JSON.stringify({ prompt: 'Say hello', scenario: 'reply', ...(profile ? { profile } : {}) }),
    });
    if (response.status !== 201) throw new Error(`POST /api/v1/tasks answered ${response.status}`);
    const { id } = (await response.json()) as { id: string };
    const topic = `task:${id}`;
    let firstMs: number | undefined;
    const { status, doneMs } = await new Promise<{ status: TaskStatus; doneMs: number }>(
      (resolve, reject) => {
        const subscription = this.connection.follow(topic, {
          onEvents: (events) => {
            for (const event of events) {
              const at = performance.now() - started;
              if (event.type !== 'task.status') firstMs ??= at;
              else {
                const status = (event.data as { status: TaskStatus }).status;
                if (TERMINAL_STATUSES.includes(status)) {
                  subscription.close();
                  resolve({ status, doneMs: at });
                }
              }
            }
          },
          onState: (state, _subscription, refusal) => {
            if (state === 'refused') reject(new Error(`subscribing to ${topic}: ${refusal?.message}`));
          },
        });
      },
    );
    if (status !== 'COMPLETED') throw new Error(`task ${id} ended ${status}`);
    return { firstMs: Math.round(firstMs ?? doneMs), doneMs: Math.round(doneMs) };
  }
}

async function connect(stack: ServiceStack): Promise<TopicConnection> {
  let connected: () => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => ((connected = resolve), (failed = reject)));
  const connection = new TopicConnection({
    url: stack.websocketUrl,
    token: stack.adminToken,
    onNotice: (notice) => {
      if (notice.kind === 'hello') connected();
      else if (notice.kind === 'connect-failed') failed(new Error(notice.message));
    },
  });
  await ready;
  return connection;
}

// As many POSTs as `concurrency` clients make in `seconds`, each waiting for its answer. Sent with
// node:http over kept-alive connections, not fetch: on this 2-core machine the benchmark's own
// client shares the cores with the stack, and fetch cost it ~1.2 ms of CPU per request (node:http
// ~0.2 ms) — CPU the gateway's rate was then measured without.
async function acceptRate(
  stack: ServiceStack,
  concurrency: number,
  seconds: number,
): Promise<{ perSecond: number; p50: number; p99: number; cpu: { name: string; ms: number }[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(`${stack.gatewayUrl}/api/v1/tasks`);
  const body = JSON.stringify({ prompt: 'accepted', scenario: 'reply' });
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${stack.adminToken}`,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 201
              ? resolve()
              : reject(new Error(`POST /api/v1/tasks answered ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  const latencies: number[] = [];
  const cpuBefore = cpuTimes(stack);
  const until = Date.now() + seconds * 1000;
  const client = async () => {
    while (Date.now() < until) {
      const started = performance.now();
      await post();
      latencies.push(performance.now() - started);
    }
  };
  const started = Date.now();
  try {
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    agent.destroy();
  }
  const cpu = cpuSpent(cpuBefore, cpuTimes(stack)).map(({ name, ms: spent }) => ({
    name,
    ms: spent / latencies.length,
  }));
  return {
    perSecond: latencies.length / ((Date.now() - started) / 1000),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    cpu,
  };
}

// The runner's samples whose name starts with `prefix`, each with its labels as printed.
async function runnerSamples(
  stack: ServiceStack,
  prefix: string,
): Promise<{ name: string; labels: string; value: number }[]> {
  const text = await (await fetch(`http://127.0.0.1:${stack.ports.get('agent-runner')}/metrics`)).text();
  return text.split('\n').flatMap((line) => {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match?.[1]?.startsWith(prefix) || match[1].endsWith('_bucket')) return [];
    const labels = (match[2] ?? '').replace(/,?service="[^"]*"/, '');
    return [{ name: match[1], labels, value: Number(match[3]) }];
  });
}

// Until the runner's warm pool holds `count` CLIs (the gauge is set as each one is ready).
async function poolHolds(stack: ServiceStack, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [gauge] = await runnerSamples(stack, 'hangar_runner_warm_agents');
    if (gauge?.value === count) return;
    if (Date.now() > deadline) throw new Error(`the warm pool did not hold ${count} CLI(s) within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Until `count` agent CLIs run on the runner (at most 60 s).
async function agentsRunning(stack: ServiceStack, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (stack.agentsIn(stack.workspaceRoot).length < count) {
    if (Date.now() > deadline) throw new Error(`the runner did not run ${count} CLI(s) within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Until this machine's CPUs are at least 90% idle over a quarter of a second (at most 30 s): each
// measured run starts on a quiet machine, whatever the previous one left running (the warm
// pool starting a CLI, the CLI of a finished run exiting).
async function quiet(): Promise<void> {
  const sample = () => {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { idle, total: fields.reduce((sum, value) => sum + value, 0) };
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const before = sample();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = sample();
    const total = after.total - before.total;
    if (total > 0 && (after.idle - before.idle) / total >= 0.9) return;
  }
}

// CPU time so far (ms) of each service, of PostgreSQL (all its processes) and Redis, of this
// benchmark (its clients), and of the whole machine.
function cpuTimes(stack: ServiceStack): Map<string, number> {
  const tick = 1000 / 100; // USER_HZ
  const times = new Map<string, number>();
  const add = (name: string, pid: number | string) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // By process: PostgreSQL's backends come and go (cpuSpent).
    times.set(`${name} ${pid}`, (Number(fields[11]) + Number(fields[12])) * tick);
  };
  for (const name of SERVICES) {
    const pid = stack.processes.get(name)?.child.pid;
    if (pid) add(name, pid);
  }
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (command === 'postgres') add('postgres', pid);
    else if (command === 'redis-server') add('redis', pid);
  }
  const own = process.cpuUsage();
  times.set('benchmark', (own.user + own.system) / 1000);
  const all = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  // Busy time of every CPU: all but idle and iowait.
  times.set('machine', (all.reduce((sum, value) => sum + value, 0) - (all[3] ?? 0) - (all[4] ?? 0)) * tick);
  return times;
}

// What each process spent between two cpuTimes, and the rest of the machine (the agent CLIs,
// their sandboxes, git).
function cpuSpent(before: Map<string, number>, after: Map<string, number>): { name: string; ms: number }[] {
  // Each process's CPU between the two (one started meanwhile from nothing; one gone by `after`
  // is not counted, where subtracting its whole life made PostgreSQL's share negative), by name.
  const byName = new Map<string, number>();
  for (const [key, value] of after) {
    const name = key.split(' ')[0]!;
    byName.set(name, (byName.get(name) ?? 0) + value - (before.get(key) ?? 0));
  }
  const spent = [...byName].map(([name, ms]) => ({ name, ms }));
  const processes = spent.filter(({ name }) => name !== 'machine');
  const machine = spent.find(({ name }) => name === 'machine')?.ms ?? 0;
  return [
    ...processes,
    { name: 'everything else', ms: machine - processes.reduce((sum, { ms }) => sum + ms, 0) },
  ];
}

// Each service's resident memory once it is up and has been idle a moment.
async function idleRss(stack: ServiceStack): Promise<{ name: string; mb: number }[]> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return SERVICES.map((name) => {
    const pid = stack.processes.get(name)?.child.pid;
    const status = pid ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { name, mb: kb / 1024 };
  });
}

function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en')} ms`;
}

function positiveInteger(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name}: give a whole number of at least 1`);
    process.exit(2);
  }
  return value;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
