import { Client } from 'pg';
import { DURATION_BOUNDS_MS, type TaskEndedRecord } from '@hangar/contracts';
import { createRedis, METRICS_GROUP, MetricRecordStream } from '@hangar/redis';
import { redisUrl, ServiceStack } from '@hangar/testing';
import { request, runTask } from './support';

interface SampleRow {
  finished_at: Date;
  task_id: string;
  project: string;
  profile: string;
  status: string;
  reason: string | null;
  queue_ms: number | null;
  run_ms: number | null;
  cost_usd: number | null;
  input_tokens: string | null;
  output_tokens: string | null;
  cache_read_tokens: string | null;
  cache_creation_tokens: string | null;
  num_turns: number | null;
  tool_calls: Record<string, number>;
}

const WIDTHS = ['minute', 'hour', 'day', 'month'] as const;
// What task_project_rollups sums, beside its tools.
const PROJECT_COLUMNS = [
  'tasks',
  'cost_usd',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_creation_tokens',
  'run_count',
  'run_ms_sum',
  'run_hist',
];

type Sums = Record<string, number | number[]>;
const MINUTE = 60_000;

// The metrics service with real processes (docs/observability.md): tasks run with the real CLI
// and the scripted model end in records their lifecycle sends; the service stores each once —
// across a kill -9 of itself in the middle of a backlog — and its rollups are the sums of its
// samples; what is not a record is parked; a record lost on the way is rebuilt from PostgreSQL.
describe('metrics service: the time series of ended tasks', () => {
  let stack: ServiceStack;
  let db: Client;
  let redis: ReturnType<typeof createRedis>;
  let records: MetricRecordStream;

  beforeAll(async () => {
    stack = await ServiceStack.create('e2e-metrics', {
      // Small batches: a backlog takes long enough to be interrupted in its middle.
      METRICS_BATCH_SIZE: '5',
      METRICS_RECONCILE_SECONDS: '1',
      METRICS_RECONCILE_GRACE_SECONDS: '1',
    });
    await stack.start();
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    redis = createRedis(redisUrl());
    records = new MetricRecordStream(redis, { prefix: stack.redisPrefix });
  });

  afterAll(async () => {
    await db?.end();
    await redis?.quit();
    await stack?.dispose();
  });

  async function sampleCount(): Promise<number> {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM task_samples');
    return rows[0]?.n ?? 0;
  }

  // For what no event announces (rows in a table), polled.
  async function until(holds: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await holds())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function sampleOf(taskId: string): Promise<SampleRow | undefined> {
    const { rows } = await db.query<SampleRow>('SELECT * FROM task_samples WHERE task_id = $1', [taskId]);
    return rows[0];
  }

  // Records of tasks that ran elsewhere (no rows of their own here), spread over the last day and
  // a few projects, profiles and outcomes; one in ten weeks old, older than any partition (the
  // default partition's).
  function synthetic(count: number): TaskEndedRecord[] {
    const now = Date.now();
    return Array.from({ length: count }, (_, i) => {
      const finishedAt =
        i % 10 === 0 ? now - (40 + (i % 7)) * 86_400_000 : now - ((i * 7919) % 1440) * MINUTE;
      const started = i % 13 !== 0;
      const status = i % 5 === 0 ? 'FAILED' : i % 17 === 0 ? 'CANCELLED' : 'COMPLETED';
      const createdAt = finishedAt - 1000 - ((i * 37) % 200_000);
      return {
        kind: 'task.ended',
        taskId: `synthetic-${i}`,
        project: `project-${i % 3}`,
        profile: `profile-${i % 4}`,
        status,
        reason:
          status === 'FAILED'
            ? i % 2
              ? 'timeout'
              : 'exit-code'
            : status === 'CANCELLED'
              ? 'cancelled'
              : null,
        attempts: 1 + (i % 2),
        createdAt: new Date(createdAt).toISOString(),
        startedAt: started ? new Date(createdAt + ((i * 13) % 900)).toISOString() : null,
        finishedAt: new Date(finishedAt).toISOString(),
        costUsd: i % 11 === 0 ? null : ((i * 7) % 1000) / 1000,
        inputTokens: 100 + i,
        outputTokens: 20 + (i % 50),
        cacheReadTokens: i % 3 === 0 ? null : 1000 + i,
        cacheCreationTokens: i % 7,
        numTurns: 1 + (i % 4),
      };
    });
  }

  // The rollups as they must be: summed here, from the raw samples, without the service's SQL.
  async function expectRollupsToBeTheSamplesSums(): Promise<void> {
    const { rows: samples } = await db.query<SampleRow>('SELECT * FROM task_samples');
    const expected = new Map<string, Sums>();
    const expectedTools = new Map<string, number>();
    // And per project, whatever the profile or outcome, with its tool calls by name.
    const expectedProjects = new Map<string, { sums: Sums; tools: Record<string, number> }>();
    const bucketOf = (ms: number) => DURATION_BOUNDS_MS.filter((bound) => ms >= bound).length;
    const count = (hist: number[], ms: number | null) => {
      if (ms === null) return;
      const at = bucketOf(ms);
      while (hist.length <= at) hist.push(0);
      hist[at] = (hist[at] ?? 0) + 1;
    };
    // Each column a sample adds to, as the rollups name them.
    const added: Record<string, (sample: SampleRow) => number | string | null> = {
      tasks: () => 1,
      cost_usd: (sample) => sample.cost_usd,
      input_tokens: (sample) => sample.input_tokens,
      output_tokens: (sample) => sample.output_tokens,
      cache_read_tokens: (sample) => sample.cache_read_tokens,
      cache_creation_tokens: (sample) => sample.cache_creation_tokens,
      num_turns: (sample) => sample.num_turns,
      tool_calls: (sample) => Object.values(sample.tool_calls).reduce((a, b) => a + b, 0),
      queue_count: (sample) => (sample.queue_ms === null ? 0 : 1),
      queue_ms_sum: (sample) => sample.queue_ms,
      run_count: (sample) => (sample.run_ms === null ? 0 : 1),
      run_ms_sum: (sample) => sample.run_ms,
    };
    const noSums = (columns: readonly string[]): Sums =>
      Object.fromEntries(columns.map((name) => [name, name.endsWith('_hist') ? [] : 0]));
    const addTo = (sums: Sums, sample: SampleRow) => {
      for (const name of Object.keys(sums)) {
        if (name === 'queue_hist') count(sums[name] as number[], sample.queue_ms);
        else if (name === 'run_hist') count(sums[name] as number[], sample.run_ms);
        else sums[name] = (sums[name] as number) + Number(added[name]!(sample) ?? 0);
      }
    };
    // Per-minute rollups are kept METRICS_MINUTE_ROLLUP_DAYS (14 by default): none older.
    const minutesSince = Date.now() - 14 * 86_400_000;
    for (const sample of samples) {
      for (const width of WIDTHS) {
        if (width === 'minute' && sample.finished_at.getTime() < minutesSince) continue;
        const bucket = truncate(sample.finished_at, width).toISOString();
        const key = [width, bucket, sample.project, sample.profile, sample.status, sample.reason ?? ''].join(
          '|',
        );
        const sums = expected.get(key) ?? noSums([...Object.keys(added), 'queue_hist', 'run_hist']);
        addTo(sums, sample);
        expected.set(key, sums);
        const projectKey = [width, bucket, sample.project].join('|');
        const project = expectedProjects.get(projectKey) ?? { sums: noSums(PROJECT_COLUMNS), tools: {} };
        addTo(project.sums, sample);
        for (const [tool, calls] of Object.entries(sample.tool_calls))
          project.tools[tool] = (project.tools[tool] ?? 0) + calls;
        expectedProjects.set(projectKey, project);
        for (const [tool, calls] of Object.entries(sample.tool_calls)) {
          const toolKey = [width, bucket, sample.project, sample.profile, tool].join('|');
          expectedTools.set(toolKey, (expectedTools.get(toolKey) ?? 0) + calls);
        }
      }
    }
    const { rows: rollups } = await db.query<Record<string, unknown>>('SELECT * FROM task_rollups');
    const actual = new Map(
      rollups.map((row) => [
        [
          row.width,
          (row.bucket as Date).toISOString(),
          row.project,
          row.profile,
          row.status,
          row.reason,
        ].join('|'),
        row,
      ]),
    );
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, sums] of expected) {
      const row = actual.get(key) as Record<string, unknown>;
      for (const [name, value] of Object.entries(sums)) {
        if (Array.isArray(value))
          expect({ key, name, hist: (row[name] as string[]).map(Number) }).toEqual({
            key,
            name,
            hist: value,
          });
        else if (name === 'cost_usd') expect(Number(row[name])).toBeCloseTo(value, 9);
        else expect({ key, name, value: Number(row[name]) }).toEqual({ key, name, value });
      }
    }
    const { rows: tools } = await db.query<{
      width: string;
      bucket: Date;
      project: string;
      profile: string;
      tool: string;
      calls: string;
    }>('SELECT * FROM task_tool_rollups');
    expect(
      new Map(
        tools.map((row) => [
          [row.width, row.bucket.toISOString(), row.project, row.profile, row.tool].join('|'),
          Number(row.calls),
        ]),
      ),
    ).toEqual(expectedTools);
    const { rows: projects } = await db.query<Record<string, unknown>>('SELECT * FROM task_project_rollups');
    expect(
      projects.map((row) => [row.width, (row.bucket as Date).toISOString(), row.project].join('|')).sort(),
    ).toEqual([...expectedProjects.keys()].sort());
    for (const row of projects) {
      const key = [row.width, (row.bucket as Date).toISOString(), row.project].join('|');
      const {
        sums: { cost_usd: cost, ...sums },
        tools,
      } = expectedProjects.get(key)!;
      expect(Number(row.cost_usd)).toBeCloseTo(cost as number, 9);
      expect({
        key,
        ...Object.fromEntries(
          Object.keys(sums).map((name) => [
            name,
            Array.isArray(row[name]) ? (row[name] as string[]).map(Number) : Number(row[name]),
          ]),
        ),
        tools: row.tools,
      }).toEqual({ key, ...sums, tools });
    }
  }

  it('should store every ended task once across a kill -9 of itself mid-stream, its rollups the sums of its samples', async () => {
    // Tasks run with the real CLI: their records come from their lifecycle as they end.
    const ran = await Promise.all([
      runTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' }),
      runTask(stack, { prompt: 'Say hello', scenario: 'reply' }),
      runTask(stack, { prompt: 'Fail please', scenario: 'fail' }),
    ]);
    await until(async () => (await sampleCount()) === ran.length, 'the three tasks sampled');
    const wrote = await sampleOf(ran[0].id);
    expect(wrote).toMatchObject({
      project: 'default',
      profile: 'default',
      status: 'COMPLETED',
      reason: null,
      tool_calls: { Write: 1 },
      cost_usd: ran[0].costUsd,
      num_turns: ran[0].numTurns,
    });
    expect(wrote!.finished_at.toISOString()).toBe(ran[0].finishedAt);
    expect(wrote!.run_ms).toBe(Date.parse(ran[0].finishedAt!) - Date.parse(ran[0].startedAt!));
    expect(await sampleOf(ran[2].id)).toMatchObject({
      status: 'FAILED',
      reason: 'exit-code',
      tool_calls: {},
    });

    // A backlog while the service is away, then a kill -9 in its middle.
    await stack.stop('metrics', 'SIGKILL');
    const backlog = synthetic(2000);
    await records.append(backlog);
    const total = ran.length + backlog.length;
    await stack.start(['metrics']);
    await until(async () => (await sampleCount()) >= 100, 'the backlog being stored');
    await stack.stop('metrics', 'SIGKILL');
    const stored = await sampleCount();
    expect(stored).toBeLessThan(total);
    // Each record once more, as another lifecycle might send it again: still one sample each.
    await records.append(backlog.slice(0, 50));
    await stack.start(['metrics']);
    await until(async () => {
      const { lag, pending } = await records.backlog();
      return lag === 0 && pending === 0;
    }, 'the backlog read and acknowledged');
    expect(await sampleCount()).toBe(total);
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(DISTINCT task_id)::int AS n FROM task_samples',
    );
    expect(rows[0]?.n).toBe(total);
    // Some samples sit in day partitions, the oldest in the default one.
    const { rows: where } = await db.query<{ partition: string; n: number }>(
      `SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM task_samples GROUP BY 1`,
    );
    expect(where.find((row) => row.partition === 'task_samples_default')?.n).toBe(200);
    const inDays = where.filter((row) => /^task_samples_\d{8}$/.test(row.partition));
    expect(inDays.reduce((sum, row) => sum + row.n, 0)).toBe(total - 200);
    await expectRollupsToBeTheSamplesSums();

    const metrics = await (await fetch(`http://127.0.0.1:${stack.ports.get('metrics')}/metrics`)).text();
    expect(metrics).toMatch(/hangar_metrics_records_total\{[^}]*outcome="duplicate"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/hangar_metrics_records_backlog\{[^}]*state="pending"[^}]*\} 0/);
  });

  it('should park what is not a record, saying why, and store what follows', async () => {
    const [good] = synthetic(1).map((record) => ({ ...record, taskId: 'after-poison' }));
    await records.appendRaw([
      '{not json',
      JSON.stringify({ kind: 'task.ended', taskId: 'x' }),
      JSON.stringify({ kind: 'nonsense' }),
    ]);
    // A record PostgreSQL refuses (text cannot hold NUL), in the same batch as a good one.
    const [refused] = synthetic(1).map((record) => ({ ...record, taskId: 'refused', profile: 'a\u0000b' }));
    await records.append([refused!, good!]);
    const parked = async () =>
      (
        await db.query<{ body: string; reason: string }>(
          'SELECT body, reason FROM metric_records_parked ORDER BY id',
        )
      ).rows;
    // The good record's sample commits before the refused one is parked: both awaited.
    await until(
      async () => (await sampleOf('after-poison')) !== undefined && (await parked()).length === 4,
      'the record after the poison stored, the refused one parked',
    );
    const rows = await parked();
    expect(rows.map((row) => row.reason)).toEqual([
      'not JSON',
      expect.stringMatching(/^not a record: /),
      expect.stringMatching(/^not a record: kind: /),
      expect.stringMatching(/^refused: /),
    ]);
    expect(await sampleOf('refused')).toBeUndefined();
    expect(rows[0]?.body).toBe('{not json');
    expect(await records.backlog()).toEqual({ lag: 0, pending: 0 });
    const pending = await redis.xpending(records.key, METRICS_GROUP);
    expect(pending[0]).toBe(0);
  });

  it("should say in a task's sample the tool calls its permission rules refused, by tool", async () => {
    // dontAsk: Claude Code refuses every call not allowed beforehand (Bash, here) without asking.
    expect(
      (await request(stack, 'POST', '/api/v1/profiles', { name: 'strict', permissionMode: 'dontAsk' }))
        .status,
    ).toBe(201);
    const task = await runTask(stack, { prompt: 'Run a command', profile: 'strict', scenario: 'bash' });
    expect(task.status).toBe('COMPLETED');
    await until(async () => (await sampleOf(task.id)) !== undefined, 'the task sampled');
    expect(await sampleOf(task.id)).toMatchObject({
      profile: 'strict',
      tool_calls: { Bash: 1 },
      permission_denials: { Bash: 1 },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${stack.ports.get('metrics')}/metrics`)).text();
    expect(metrics).toMatch(
      /hangar_task_permission_denials_total\{[^}]*profile="strict"[^}]*tool="Bash"[^}]*\} 1\b/,
    );
  });

  it('should sample from PostgreSQL an ended task whose record was lost on the way', async () => {
    await stack.stop('metrics', 'SIGKILL');
    const task = await runTask(stack, { prompt: 'Write hello.txt please', scenario: 'write-file' });
    // Its record, gone before anyone read it (as when Redis lost it).
    const entries = await redis.xrange(records.key, '-', '+');
    const lost = entries.filter(([, fields]) => (fields[1] ?? '').includes(task.id)).map(([id]) => id);
    expect(lost).toHaveLength(1);
    await redis.xdel(records.key, ...lost);
    await stack.start(['metrics']);
    await until(async () => (await sampleOf(task.id)) !== undefined, 'the lost task sampled');
    expect(await sampleOf(task.id)).toMatchObject({ status: 'COMPLETED', tool_calls: { Write: 1 } });
    const metrics = await (await fetch(`http://127.0.0.1:${stack.ports.get('metrics')}/metrics`)).text();
    expect(metrics).toMatch(/hangar_metrics_samples_reconciled_total(\{[^}]*\})? 1\b/);
  });
});

function truncate(at: Date, width: (typeof WIDTHS)[number]): Date {
  const d = new Date(at);
  if (width === 'month') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  if (width === 'day') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  if (width === 'hour')
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()));
  return new Date(Math.floor(d.getTime() / MINUTE) * MINUTE);
}
