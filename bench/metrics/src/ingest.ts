import os from 'node:os';
import { Client } from 'pg';
import type { TaskEndedRecord } from '@hangar/contracts';
import { createRedis, MetricRecordStream } from '@hangar/redis';
import { redisUrl, ServiceStack } from '@hangar/testing';
import {
  COMPLETED_SHARE,
  cpuSnapshot,
  expand,
  FAILED_SHARE,
  FAILURE_REASONS,
  processCpuMs,
  PROFILES,
  PROJECTS,
  sleep,
  thousands,
  type CpuSnapshot,
} from './common';

type Redis = ReturnType<typeof createRedis>;

const DAY_MS = 86_400_000;
// Records appended per pipeline (one round trip).
const APPEND_CHUNK = 10_000;
// How often the group's backlog is read while the service drains it.
const POLL_MS = 20;
const TARGET_PER_SECOND = 20_000;

export interface IngestOptions {
  records: number;
  batches: number[];
  // The time the records end over, up to now (ms).
  overMs: number;
  // Where the metrics service writes a V8 CPU profile of each run (node --cpu-prof), if asked.
  cpuProfileDir?: string;
}

interface Drained {
  batch: number;
  appendMs: number;
  drainMs: number;
  // CPU (ms) while it drained: the service (and of that, its garbage collector), this benchmark.
  service: number;
  serviceGc: number;
  bench: number;
  cpu: CpuSnapshot;
  rollups: Map<string, number>;
}

// The metrics service alone on a stack of its own (it needs PostgreSQL and Redis, nothing else),
// once per batch size: started, then stopped (SIGSTOP) while --records records are appended to
// its stream, then let run (SIGCONT) and timed until every record is stored and acknowledged.
export async function ingest({ records, batches, overMs, cpuProfileDir }: IngestOptions): Promise<void> {
  const stack = await ServiceStack.create('bench-metrics', { LOG_LEVEL: 'warn' });
  const redis = createRedis(redisUrl());
  // Capped at the records appended, so none is trimmed away (the lifecycle's cap is 100,000).
  const stream = new MetricRecordStream(redis, { prefix: stack.redisPrefix, maxLen: records });
  const db = new Client({ connectionString: stack.database.url });
  await db.connect();
  try {
    const runs: Drained[] = [];
    for (const [run, batch] of batches.entries())
      runs.push(await drain(stack, redis, stream, db, { run, batch, records, overMs, cpuProfileDir }));
    const { rows } = await db.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    );
    const cores = os.cpus().length;
    console.log(
      `\nbench/metrics ingest on ${cores} cores, ${os.cpus()[0]?.model ?? ''}; PostgreSQL ${rows[0]?.version ?? '?'} (native partitions), Redis ${await redisVersion(redis)}`,
    );
    console.log(
      `  ${thousands(records)} task.ended records ending over the last ${span(overMs)}, in the order they ended (${PROJECTS.length} projects × ${PROFILES.length} profiles; ${Math.round(COMPLETED_SHARE * 100)}% COMPLETED, ${Math.round(FAILED_SHARE * 100)}% FAILED by ${FAILURE_REASONS.length} reasons, the rest CANCELLED), appended to the stream of the started metrics service while it was stopped (SIGSTOP); timed from SIGCONT until the group's backlog is empty (lag and pending 0), every sample in task_samples`,
    );
    console.log(`  target (issue 17): ≥ ${thousands(TARGET_PER_SECOND)} samples/s\n`);
    console.log(
      '| METRICS_BATCH_SIZE | drain | samples/s | CPU per 1000 samples: metrics service (of which GC) | PostgreSQL, all processes (of which the bench database’s backends) | Redis | this benchmark | everything else | machine busy |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const run of runs) {
      const per1000 = (ms: number) => `${((ms / records) * 1000).toFixed(0)} ms`;
      const rest = run.cpu.machine - run.service - run.cpu.postgres - run.cpu.redis - run.bench;
      console.log(
        `| ${run.batch} | ${(run.drainMs / 1000).toFixed(2)} s | ${thousands(records / (run.drainMs / 1000))} | ${per1000(run.service)} (${per1000(run.serviceGc)}) | ${per1000(run.cpu.postgres)} (${per1000(run.cpu.postgresDatabase)}) | ${per1000(run.cpu.redis)} | ${per1000(run.bench)} | ${per1000(rest)} | ${((run.cpu.machine / (run.drainMs * cores)) * 100).toFixed(0)}% of ${cores} cores |`,
      );
    }
    console.log('');
    for (const run of runs)
      console.log(
        `  batch ${run.batch}: appended in ${(run.appendMs / 1000).toFixed(1)} s (${thousands(records / (run.appendMs / 1000))} records/s, ${APPEND_CHUNK.toLocaleString('en')} per pipeline); rollup rows made: ${[...run.rollups].map(([width, count]) => `${width} ${thousands(count)}`).join(', ')}`,
      );
  } finally {
    await stack.stop('metrics');
    await redis.del(stream.key).catch(() => undefined);
    await redis.quit();
    await db.end();
    await stack.dispose();
  }
}

async function drain(
  stack: ServiceStack,
  redis: Redis,
  stream: MetricRecordStream,
  db: Client,
  {
    run,
    batch,
    records,
    overMs,
    cpuProfileDir,
  }: { run: number; batch: number; records: number; overMs: number; cpuProfileDir?: string },
): Promise<Drained> {
  await stack.stop('metrics');
  await db.query(
    'TRUNCATE task_samples, task_rollups, task_tool_rollups, task_project_rollups, metric_records_parked',
  );
  await redis.del(stream.key);
  await stream.ensureGroup();
  // Started (its day's partitions made, its group read, its connections open), then stopped.
  await stack.start(
    ['metrics'],
    { METRICS_BATCH_SIZE: String(batch) },
    cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
  );
  const service = stack.processes.get('metrics')!;
  const pid = service.child.pid!;
  const gcBefore = await gcSeconds(stack);
  process.kill(pid, 'SIGSTOP');
  let stopped = true;
  try {
    const appendStarted = performance.now();
    const now = Date.now();
    const random = mulberry32(run + 1);
    for (let from = 0; from < records; from += APPEND_CHUNK) {
      const chunk: TaskEndedRecord[] = [];
      for (let i = from; i < Math.min(records, from + APPEND_CHUNK); i += 1)
        chunk.push(
          syntheticRecord(`bench-${run}-${i}`, now - overMs + ((i + 0.5) / records) * overMs, random),
        );
      await stream.append(chunk);
    }
    const appendMs = performance.now() - appendStarted;
    // The service's blocked read may have been handed its first batch already (pending).
    const before = await stream.backlog();
    if (before.lag + before.pending !== records)
      throw new Error(
        `the stream holds ${before.lag + before.pending} records for the group, not ${records}: some were trimmed`,
      );

    const serviceBefore = processCpuMs(pid) ?? 0;
    const benchBefore = process.cpuUsage();
    const cpuBefore = cpuSnapshot(stack.database.name);
    const started = performance.now();
    process.kill(pid, 'SIGCONT');
    stopped = false;
    for (;;) {
      if (service.child.exitCode !== null || service.child.signalCode !== null)
        throw new Error(`the metrics service exited:\n${service.output.slice(-20).join('\n')}`);
      const { lag, pending } = await stream.backlog();
      if (lag === 0 && pending === 0) break;
      await sleep(POLL_MS);
    }
    const drainMs = performance.now() - started;
    const serviceAfter = processCpuMs(pid) ?? 0;
    const bench = process.cpuUsage(benchBefore);
    const cpuAfter = cpuSnapshot(stack.database.name);
    const gcAfter = await gcSeconds(stack);

    const { samples, parked } = (
      await db.query<{ samples: number; parked: number }>(
        `SELECT (SELECT count(*)::int FROM task_samples) AS samples,
                (SELECT count(*)::int FROM metric_records_parked) AS parked`,
      )
    ).rows[0]!;
    if (samples !== records || parked !== 0)
      throw new Error(`after the drain: ${samples} samples (not ${records}), ${parked} records parked`);
    const { rows } = await db.query<{ width: string; rows: number; tasks: number }>(
      `SELECT width, count(*)::int AS rows, sum(tasks)::float8 AS tasks FROM task_rollups GROUP BY 1`,
    );
    for (const row of rows)
      if ((row.width === 'day' || row.width === 'hour') && row.tasks !== records)
        throw new Error(`the ${row.width} rollups count ${row.tasks} tasks, not ${records}`);
    const order = ['minute', 'hour', 'day'];
    rows.sort((a, b) => order.indexOf(a.width) - order.indexOf(b.width));
    return {
      batch,
      appendMs,
      drainMs,
      service: serviceAfter - serviceBefore,
      serviceGc: (gcAfter - gcBefore) * 1000,
      bench: (bench.user + bench.system) / 1000,
      cpu: {
        postgres: cpuAfter.postgres - cpuBefore.postgres,
        postgresDatabase: cpuAfter.postgresDatabase - cpuBefore.postgresDatabase,
        redis: cpuAfter.redis - cpuBefore.redis,
        machine: cpuAfter.machine - cpuBefore.machine,
      },
      rollups: new Map(rows.map((row) => [row.width, row.rows])),
    };
  } finally {
    // Never left stopped: it could not stop (SIGTERM) at the end.
    if (stopped) process.kill(pid, 'SIGCONT');
  }
}

// The service's garbage collections so far (s): prom-client's nodejs_gc_duration_seconds, all kinds.
async function gcSeconds(stack: ServiceStack): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${stack.ports.get('metrics')}/metrics`)).text();
  let seconds = 0;
  for (const match of text.matchAll(/^nodejs_gc_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/gm))
    seconds += Number(match[1]);
  return seconds;
}

const projects = expand(PROJECTS);
const profiles = expand(PROFILES);
const reasons = expand(FAILURE_REASONS);

// A task that ended at `finishedAt` (ms), as its lifecycle would record it.
function syntheticRecord(taskId: string, finishedAt: number, random: () => number): TaskEndedRecord {
  const pick = (from: readonly string[]) => from[Math.floor(random() * from.length)]!;
  // Roughly normal, mean 0 and deviation 1.
  const normal = () => (random() + random() + random() - 1.5) * 2;
  const outcome = random();
  const status =
    outcome < COMPLETED_SHARE
      ? 'COMPLETED'
      : outcome < COMPLETED_SHARE + FAILED_SHARE
        ? 'FAILED'
        : 'CANCELLED';
  const reason = status === 'COMPLETED' ? null : status === 'FAILED' ? pick(reasons) : 'cancelled';
  const started = !(status === 'CANCELLED' && random() < 0.5);
  const runMs =
    reason === 'timeout'
      ? 1_800_000 + Math.floor(random() * 5000)
      : Math.min(10_800_000, Math.round(Math.exp(Math.log(45_000) + 1.1 * normal())));
  const queueMs = Math.min(3_600_000, Math.round(Math.exp(Math.log(800) + 1.5 * normal())));
  const end = Math.round(finishedAt);
  const startedAt = end - runMs;
  const createdAt = (started ? startedAt : end) - queueMs;
  const turns = started ? Math.min(80, 1 + Math.floor(runMs / 8000)) : null;
  const input = turns === null ? null : turns * (2000 + Math.floor(random() * 6000));
  const output = turns === null ? null : turns * (150 + Math.floor(random() * 700));
  return {
    kind: 'task.ended',
    taskId,
    project: pick(projects),
    profile: pick(profiles),
    status,
    reason,
    attempts: random() < 0.05 ? 2 : 1,
    createdAt: new Date(createdAt).toISOString(),
    startedAt: started ? new Date(startedAt).toISOString() : null,
    finishedAt: new Date(end).toISOString(),
    costUsd:
      input === null || output === null
        ? null
        : Math.round(input * 3 + output * 15 + input * 4 * 0.3 + (input / 5) * 3.75) / 1e6,
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: input === null ? null : input * 4,
    cacheCreationTokens: input === null ? null : Math.floor(input / 5),
    numTurns: turns,
  };
}

// A small seeded generator: the same records on every run.
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
}

function span(ms: number): string {
  if (ms % DAY_MS === 0) return ms === DAY_MS ? 'day' : `${ms / DAY_MS} days`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  return `${ms / 1000} s`;
}
