import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AgentEvent, Task } from '@hangar/contracts';
import { createRedis, TaskEventStream } from '@hangar/redis';
import { redisUrl, ServiceStack } from '@hangar/testing';
import type { WorkerCommand, WorkerReply } from './client-worker';
import { Histogram, now } from './histogram';

// bench/realtime: one websocket-pool replica, real Redis and Postgres, real socket.io clients.
//
//   fanout: a task's events written at --rate events/s to its Redis stream (as the
//           agent-runner writes them) to --clients clients subscribed to it; prints delivery
//           latency (event written → client handler), events/s delivered, gaps/duplicates.
//   idle:   --connections idle connections; prints the replica's RSS per connection.
//
// Results and the commands that produced them: docs/benchmarks.md.
const USAGE = `usage: pnpm bench:realtime [fanout|idle] [options]
  fanout  --clients 200 --rate 2000 --seconds 20 --warmup 3 --workers 2
  idle    --connections 10000 --workers 4 [--snapshot <dir>]   (a heap snapshot of the replica)
  either  --profile <dir>   (the replica writes a V8 CPU profile there when it stops)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: 'string', default: '200' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10000' },
    workers: { type: 'string' },
    // A directory: the replica writes a V8 CPU profile there when it stops.
    profile: { type: 'string' },
    // idle: a directory for a heap snapshot of the replica with every connection open.
    snapshot: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

function positive(name: string, value: string | undefined): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    console.error(`--${name} must be a positive whole number (got ${value})\n${USAGE}`);
    process.exit(2);
  }
  return number;
}

const mode = positionals[0] ?? 'fanout';
if (values.help || !['fanout', 'idle'].includes(mode)) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

// Every set of workers started, closed at the end whatever happens.
const started: Workers[] = [];

// Forked processes of clients, driven by messages.
class Workers {
  private constructor(private readonly children: ChildProcess[]) {}

  get size(): number {
    return this.children.length;
  }

  static start(count: number): Workers {
    const workers = new Workers(
      Array.from({ length: count }, () =>
        fork(path.join(__dirname, 'client-worker.js'), [], { stdio: 'inherit' }),
      ),
    );
    started.push(workers);
    return workers;
  }

  // Sends one command to each worker and gathers each one's answer.
  ask(command: (index: number) => WorkerCommand): Promise<WorkerReply[]> {
    return Promise.all(
      this.children.map(
        (child, index) =>
          new Promise<WorkerReply>((resolve) => {
            child.once('message', (message: WorkerReply) => resolve(message));
            child.send(command(index));
          }),
      ),
    );
  }

  tell(command: WorkerCommand) {
    for (const child of this.children) child.send(command);
  }

  close() {
    for (const child of this.children) if (child.connected) child.send({ type: 'close' });
  }
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, index) => Math.floor((total + index) / parts));
}

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
}

// CPU seconds (user + system) the process has used.
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function connect(workers: Workers, url: string, token: string, clients: number[], topic?: string) {
  const replies = await workers.ask((index) => ({
    type: 'connect',
    url,
    token,
    clients: clients[index]!,
    ...(topic ? { topic } : {}),
  }));
  const failed = replies.find((reply) => reply.type === 'failed');
  if (failed?.type === 'failed') throw new Error(`clients could not connect: ${failed.message}`);
}

async function fanout(stack: ServiceStack, poolPid: number) {
  const clients = positive('clients', values.clients);
  const rate = positive('rate', values.rate);
  const seconds = positive('seconds', values.seconds);
  const warmup = Number(values.warmup);
  const workers = Workers.start(positive('workers', values.workers ?? '2'));

  const response = await fetch(`${stack.gatewayUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'bench: events written by the benchmark' }),
  });
  if (response.status !== 201) throw new Error(`POST /api/v1/tasks answered ${response.status}`);
  const task = (await response.json()) as Task;
  // The gateway is not on the path being measured: stop it, so that it takes no CPU.
  await stack.stop('gateway');

  await connect(
    workers,
    stack.websocketUrl,
    stack.adminToken,
    split(clients, workers.size),
    `task:${task.id}`,
  );
  console.log(`${clients} clients subscribed to task:${task.id}`);

  // Events are written to the task's Redis stream, where the replica reads them live. The
  // agent-runner also writes them to Postgres in batches, which is not on the live path and
  // would take this machine's CPU from the replica being measured.
  const redis = createRedis(redisUrl());
  const stream = new TaskEventStream(redis, { prefix: stack.redisPrefix });
  // Events go out every 10 ms, as many as the rate asks for by then (the runner, too, appends
  // what the CLI has printed since its last write).
  let produced = 0;
  let producing = true;
  const started = now();
  const producer = (async () => {
    while (producing) {
      const due = Math.floor(((now() - started) / 1000) * rate) - produced;
      if (due > 0) {
        const stamp = String(now());
        const events: AgentEvent[] = Array.from({ length: due }, () => ({
          type: 'assistant.text',
          data: { text: stamp },
        }));
        await stream.append(task.id, events, produced + 1);
        produced += due;
      }
      await sleep(10);
    }
  })();

  await sleep(warmup * 1000);
  workers.tell({ type: 'reset' });
  const window = { at: now(), produced, cpu: cpuOf(poolPid) };
  let peakRss = 0;
  while (now() - window.at < seconds * 1000) {
    peakRss = Math.max(peakRss, rssOf(poolPid));
    await sleep(250);
  }
  producing = false;
  await producer;
  const cpu = cpuOf(poolPid) - window.cpu;
  const producedInWindow = produced - window.produced;

  // Wait until every client has the last event (or 30 s have passed).
  let reports: Extract<WorkerReply, { type: 'report' }>[] = [];
  const deadline = now() + 30_000;
  for (;;) {
    reports = (await workers.ask(() => ({ type: 'report' }))) as typeof reports;
    const behind = reports.flatMap((report) => report.lastSeqs).filter((seq) => seq < produced).length;
    if (behind === 0 || now() > deadline) break;
    await sleep(100);
  }
  const elapsed = (now() - window.at) / 1000;
  const latency = new Histogram();
  for (const report of reports) latency.add(Histogram.fromPairs(report.latency));
  const received = reports.reduce((sum, report) => sum + report.received, 0);
  const sum = (key: 'gaps' | 'duplicates' | 'resyncs') =>
    reports.reduce((total, report) => total + report[key], 0);
  const complete = reports.flatMap((report) => report.lastSeqs).filter((seq) => seq === produced).length;

  printResult({
    mode: 'fanout',
    replica: 'one websocket-pool replica, clients connected to it directly',
    clients,
    'events written per second': Math.round(producedInWindow / seconds),
    'events delivered per second (all clients)': Math.round(received / elapsed),
    'latency p50 (ms)': latency.quantile(0.5).toFixed(1),
    'latency p90 (ms)': latency.quantile(0.9).toFixed(1),
    'latency p99 (ms)': latency.quantile(0.99).toFixed(1),
    'latency max (ms)': latency.quantile(1).toFixed(1),
    'latency samples': latency.total,
    'clients with every event': `${complete} of ${clients}`,
    gaps: sum('gaps'),
    duplicates: sum('duplicates'),
    resyncs: sum('resyncs'),
    'replica CPU (cores)': (cpu / seconds).toFixed(2),
    'replica peak RSS': mb(peakRss),
  });
  workers.close();
  await redis.quit();
}

async function idle(stack: ServiceStack, poolPid: number) {
  const connections = positive('connections', values.connections);
  const workers = Workers.start(positive('workers', values.workers ?? '4'));
  await stack.stop('gateway');
  await sleep(2000);
  const before = rssOf(poolPid);
  const started = now();
  await connect(workers, stack.websocketUrl, stack.adminToken, split(connections, workers.size));
  const connectSeconds = (now() - started) / 1000;
  // Let the replica settle (handshake garbage collected) before reading its memory.
  await sleep(10_000);
  const after = rssOf(poolPid);
  if (values.snapshot) {
    // The replica writes it synchronously: it answers again once the file is complete.
    process.kill(poolPid, 'SIGUSR2');
    await sleep(100);
    await fetch(`${stack.websocketUrl}/health/live`).catch(() => undefined);
    console.log(`heap snapshot written to ${path.resolve(values.snapshot)}`);
  }
  const metrics = await (await fetch(`${stack.websocketUrl}/metrics`)).text();
  const open = [...metrics.matchAll(/^hangar_ws_connections\{[^}]*\} (\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
  printResult({
    mode: 'idle',
    connections,
    'open connections (replica metrics)': open,
    'connect time (s)': connectSeconds.toFixed(1),
    'replica RSS before': mb(before),
    'replica RSS after': mb(after),
    'RSS per connection (KB)': ((after - before) / connections / 1024).toFixed(1),
  });
  workers.close();
}

function printResult(result: Record<string, string | number>) {
  const width = Math.max(...Object.keys(result).map((key) => key.length));
  console.log(`\nbench/realtime on ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
  for (const [key, value] of Object.entries(result)) console.log(`  ${key.padEnd(width)}  ${value}`);
}

async function main() {
  // One replica with room for the connections asked for; quiet logs.
  const stack = await ServiceStack.create('bench-realtime', {
    LOG_LEVEL: 'warn',
    WS_MAX_CONNECTIONS: '50000',
    WS_IDLE_TIMEOUT_MS: '3600000',
  });
  const nodeArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : [];
  for (const dir of [values.profile, values.snapshot]) if (dir) mkdirSync(dir, { recursive: true });
  if (values.snapshot)
    nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${path.resolve(values.snapshot)}`);
  try {
    await stack.start(['gateway']);
    await stack.start(['websocket-pool'], {}, nodeArgs);
    const pool = stack.processes.get('websocket-pool')!;
    if (mode === 'idle') await idle(stack, pool.child.pid!);
    else await fanout(stack, pool.child.pid!);
  } finally {
    // Whatever happened, nothing of the benchmark stays behind.
    for (const workers of started) workers.close();
    const disposed = stack.dispose();
    const late = setTimeout(() => {
      for (const entry of stack.processes.values()) entry.child.kill('SIGKILL');
    }, 15_000);
    await disposed;
    clearTimeout(late);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
