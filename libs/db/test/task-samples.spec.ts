import { DURATION_BOUNDS_MS, histogramQuantile } from '@hangar/contracts';
import {
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  TaskSamples,
  type PrismaClient,
  type TaskSample,
} from '../src';
import { dropDatabases, freshDatabaseUrl, withClient } from './fresh-database';

const DAY = 86_400_000;
const HOUR = 3_600_000;

// The metrics service's storage (docs/observability.md) on native partitions: a day's partition
// made ahead, none over samples the default partition holds, whole days dropped past retention,
// histograms in the buckets their bounds say, rollups only within their width's retention, and
// ended tasks whose record never came found again.
describe(TaskSamples.name, () => {
  const { url, name } = freshDatabaseUrl('samples');
  let prisma: PrismaClient;
  let samples: TaskSamples;
  let next = 0;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    samples = new TaskSamples(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  function sample(finishedAt: number, overrides: Partial<TaskSample> = {}): TaskSample {
    next += 1;
    return {
      kind: 'task.ended',
      taskId: `t-${next}`,
      project: 'p',
      profile: 'q',
      status: 'COMPLETED',
      reason: null,
      attempts: 1,
      createdAt: new Date(finishedAt - 2_000).toISOString(),
      startedAt: new Date(finishedAt - 1_000).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      costUsd: 0.5,
      inputTokens: 1,
      outputTokens: 2,
      cacheReadTokens: 3,
      cacheCreationTokens: 4,
      numTurns: 1,
      toolCalls: {},
      ...overrides,
    };
  }

  const query = <T>(text: string, values: unknown[] = []) =>
    withClient(url, async (client) => (await client.query(text, values)).rows as T[]);

  const partitionOf = async (taskId: string) =>
    (
      await query<{ partition: string }>(
        'SELECT tableoid::regclass::text AS partition FROM task_samples WHERE task_id = $1',
        [taskId],
      )
    )[0]?.partition;

  it('should say the storage is native partitions', async () => {
    expect(await samples.storage()).toBe('partitions');
  });

  it("should make each day's partition once, and none for a day whose samples the default partition holds", async () => {
    const today = Date.UTC(2031, 0, 10);
    const early = sample(Date.UTC(2031, 0, 12, 5));
    await samples.store([early]);
    expect(await partitionOf(early.taskId)).toBe('task_samples_default');

    expect(await samples.ensurePartitions(new Date(today), new Date(today + 2 * DAY))).toEqual([
      'task_samples_20310112',
    ]);
    // Again: nothing new, no error.
    expect(await samples.ensurePartitions(new Date(today), new Date(today + DAY))).toEqual([]);
    const later = sample(today + 5 * HOUR);
    await samples.store([later]);
    expect(await partitionOf(later.taskId)).toBe('task_samples_20310110');
    expect(await partitionOf(early.taskId)).toBe('task_samples_default');
  });

  it('should drop whole days past retention, and the default partition’s older rows', async () => {
    const day = Date.UTC(2030, 5, 1);
    await samples.ensurePartitions(new Date(day), new Date(day + 2 * DAY));
    const [old, kept, edge] = [sample(day + HOUR), sample(day + 2 * DAY + HOUR), sample(day + DAY + HOUR)];
    const stray = sample(Date.UTC(2030, 4, 1));
    await samples.store([old, kept, edge, stray]);
    expect(await partitionOf(stray.taskId)).toBe('task_samples_default');

    // The cutoff falls in the second day: only the first is wholly before it.
    const dropped = await samples.dropBefore(new Date(day + DAY + 2 * HOUR), 'partitions');
    expect(dropped).toEqual(['task_samples_20300601']);
    const left = await query<{ task_id: string }>(
      'SELECT task_id FROM task_samples WHERE task_id = ANY($1)',
      [[old.taskId, kept.taskId, edge.taskId, stray.taskId]],
    );
    expect(left.map((row) => row.task_id).sort()).toEqual([edge.taskId, kept.taskId].sort());
  });

  it('should count each duration in the bucket its bounds say, so a percentile reads back within it', async () => {
    const at = Date.UTC(2029, 2, 3, 4, 5);
    const runs = [0, 15, 16, 31, 32, 1_000, 5_000, 5_000, 1_000_000_000];
    await samples.store(
      runs.map((ms) =>
        sample(at, {
          profile: 'histogram',
          startedAt: new Date(at - ms).toISOString(),
          createdAt: new Date(at - ms).toISOString(),
        }),
      ),
    );
    const [row] = await query<{
      run_hist: string[];
      run_count: string;
      run_ms_sum: number;
      queue_hist: string[];
    }>(
      "SELECT run_hist, run_count, run_ms_sum, queue_hist FROM task_rollups WHERE width = 'minute' AND profile = 'histogram'",
    );
    const hist = row!.run_hist.map(Number);
    const bucketOf = (ms: number) => DURATION_BOUNDS_MS.filter((bound) => ms >= bound).length;
    const expected: number[] = [];
    for (const ms of runs) {
      while (expected.length <= bucketOf(ms)) expected.push(0);
      expected[bucketOf(ms)]! += 1;
    }
    expect(hist).toEqual(expected);
    // 0 and 15 ms below the first bound, 16 ms on it.
    expect(hist.slice(0, 2)).toEqual([2, 1]);
    expect(Number(row!.run_count)).toBe(runs.length);
    expect(row!.run_ms_sum).toBe(runs.reduce((a, b) => a + b, 0));
    // Queued for no time at all: every one in the first bucket.
    expect(row!.queue_hist.map(Number)).toEqual([runs.length]);
    // The true median is 32 ms: read back within its bucket, [32, 38).
    const median = histogramQuantile(hist, 0.5)!;
    expect(median).toBeGreaterThanOrEqual(32);
    expect(median).toBeLessThan(38);
    expect(histogramQuantile([], 0.5)).toBeNull();
  });

  it("should add nothing to a width's rollups older than its retention", async () => {
    const now = Date.now();
    const old = sample(now - 3 * HOUR, { profile: 'retention' });
    await samples.store([old], { minute: new Date(now - HOUR), hour: new Date(now - 10 * HOUR) });
    const rows = await query<{ width: string; tasks: string }>(
      "SELECT width, tasks FROM task_rollups WHERE profile = 'retention' ORDER BY width",
    );
    expect(rows.map((row) => [row.width, Number(row.tasks)])).toEqual([
      ['day', 1],
      ['hour', 1],
      ['month', 1],
    ]);
    // Pruned as the upkeep does: buckets older than the cutoff go.
    await samples.pruneRollups('hour', new Date(now));
    expect(
      (
        await query<{ width: string }>(
          "SELECT width FROM task_rollups WHERE profile = 'retention' ORDER BY width",
        )
      ).map((row) => row.width),
    ).toEqual(['day', 'month']);
  });

  it('should find an ended task that has no sample, as its record would have said, and not once sampled', async () => {
    const finishedAt = new Date(Date.now() - HOUR);
    const task = await prisma.task.create({
      data: {
        projectId: DEFAULT_PROJECT_ID,
        profileId: 'default',
        prompt: 'ended without a record',
        timeoutSeconds: 60,
        status: 'FAILED',
        error: 'runner-lost: gone (attempt 2 of 2)',
        attempts: 2,
        createdAt: new Date(finishedAt.getTime() - 60_000),
        startedAt: new Date(finishedAt.getTime() - 30_000),
        finishedAt,
        costUsd: 0.125,
        inputTokens: 5,
        numTurns: 2,
      },
    });
    await prisma.taskEvent.createMany({
      data: [
        { taskId: task.id, seq: 1, type: 'tool.use', data: { toolUseId: 'a', name: 'Bash', input: {} } },
        { taskId: task.id, seq: 2, type: 'tool.use', data: { toolUseId: 'b', name: 'Bash', input: {} } },
        { taskId: task.id, seq: 3, type: 'tool.use', data: { toolUseId: 'c', name: 'Read', input: {} } },
        { taskId: task.id, seq: 4, type: 'assistant.text', data: { text: 'hello' } },
        // Each attempt's end, with the calls its permission rules refused.
        {
          taskId: task.id,
          seq: 5,
          type: 'result',
          data: { subtype: 'success', permissionDenials: [{ tool: 'Bash', toolUseId: 'b' }] },
        },
        {
          taskId: task.id,
          seq: 6,
          type: 'result',
          data: {
            subtype: 'success',
            permissionDenials: [{ tool: 'Bash' }, { tool: 'WebFetch', toolUseId: 'd' }],
          },
        },
        { taskId: task.id, seq: 7, type: 'result', data: { subtype: 'success' } },
      ],
    });
    const since = new Date(Date.now() - 2 * DAY);
    const [found, ...more] = await samples.unsampled(since, new Date(), 10);
    expect(more).toEqual([]);
    expect(found).toEqual({
      kind: 'task.ended',
      taskId: task.id,
      project: 'default',
      profile: 'default',
      status: 'FAILED',
      reason: 'runner-lost',
      attempts: 2,
      createdAt: task.createdAt.toISOString(),
      startedAt: task.startedAt!.toISOString(),
      finishedAt: finishedAt.toISOString(),
      costUsd: 0.125,
      inputTokens: 5,
      outputTokens: null,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      numTurns: 2,
    });
    // Ended after `endedBefore`: still on its way, not looked for yet.
    expect(await samples.unsampled(since, new Date(finishedAt.getTime() - 1), 10)).toEqual([]);

    const activity = (await samples.activity([task.id, 'no-such-task'])).get(task.id)!;
    expect(activity).toEqual({
      toolCalls: { Bash: 2, Read: 1 },
      permissionDenials: { Bash: 2, WebFetch: 1 },
    });
    expect(await samples.store([{ ...found!, ...activity }])).toHaveLength(1);
    expect(await samples.store([{ ...found!, ...activity }])).toEqual([]);
    expect(
      await query<{ tool_calls: unknown; permission_denials: unknown }>(
        'SELECT tool_calls, permission_denials FROM task_samples WHERE task_id = $1',
        [task.id],
      ),
    ).toEqual([{ tool_calls: { Bash: 2, Read: 1 }, permission_denials: { Bash: 2, WebFetch: 1 } }]);
    expect(await samples.unsampled(since, new Date(), 10)).toEqual([]);
    const tools = await query<{ tool: string; calls: string }>(
      "SELECT tool, calls FROM task_tool_rollups WHERE width = 'day' AND profile = 'default' ORDER BY tool",
    );
    expect(tools.map((row) => [row.tool, Number(row.calls)])).toEqual([
      ['Bash', 2],
      ['Read', 1],
    ]);
  });

  it('should add only the samples it stored to the rollups: a batch repeating itself or one stored before counts once', async () => {
    const at = Date.UTC(2029, 4, 6, 7, 8);
    const make = (i: number) =>
      sample(at + i * 1000, {
        profile: 'sums',
        status: i % 3 === 0 ? 'FAILED' : 'COMPLETED',
        reason: i % 3 === 0 ? 'timeout' : null,
        // Run times far apart: histograms of different lengths, added element by element.
        startedAt: i % 4 === 0 ? null : new Date(at + i * 1000 - 20 * 4 ** i).toISOString(),
        costUsd: i % 5 === 0 ? null : i / 8,
        toolCalls: i % 2 === 0 ? { Read: i, Bash: 1 } : {},
      });
    const all = Array.from({ length: 12 }, (_, i) => make(i));
    const first = all.slice(0, 5);
    const stored = await samples.store([...first, first[0]!, first[1]!]);
    expect(stored.map((s) => s.sample.taskId)).toEqual(first.map((s) => s.taskId));
    // Each with its end and durations as stored: sample(t) was created 2 s before it ended.
    expect(stored.map(({ finishedMs, queueMs, runMs }) => [finishedMs, queueMs, runMs])).toEqual(
      first.map((s, i) => [
        at + i * 1000,
        i % 4 === 0 ? null : 2000 - 20 * 4 ** i,
        i % 4 === 0 ? null : 20 * 4 ** i,
      ]),
    );
    expect((await samples.store([...all, ...all.slice(6)])).map((s) => s.sample.taskId)).toEqual(
      all.slice(5).map((s) => s.taskId),
    );
    const sums = await query<Record<string, string | number | string[]>>(
      `SELECT r.status, r.tasks, r.cost_usd, r.tool_calls, r.run_count, r.run_ms_sum, r.run_hist,
         s.tasks AS s_tasks, s.cost_usd AS s_cost, s.tool_calls AS s_tool_calls, s.run_count AS s_run_count,
         s.run_ms_sum AS s_run_ms_sum, s.run_hist AS s_run_hist
       FROM task_rollups r JOIN (
         SELECT status, count(*) AS tasks, coalesce(sum(cost_usd), 0) AS cost_usd,
           coalesce(sum((SELECT sum(value::bigint) FROM jsonb_each_text(tool_calls))), 0) AS tool_calls,
           count(run_ms) AS run_count, coalesce(sum(run_ms), 0) AS run_ms_sum,
           hangar_sum_counts(hangar_count_in(width_bucket(run_ms, $1::int[]))) AS run_hist
         FROM task_samples WHERE profile = 'sums' GROUP BY status) s USING (status)
       WHERE r.profile = 'sums' AND r.width = 'hour' ORDER BY r.status`,
      [[...DURATION_BOUNDS_MS]],
    );
    expect(sums.map((row) => row.status)).toEqual(['COMPLETED', 'FAILED']);
    for (const row of sums) {
      expect(Number(row.tasks)).toBe(Number(row.s_tasks));
      expect(Number(row.cost_usd)).toBeCloseTo(Number(row.s_cost), 9);
      expect(Number(row.tool_calls)).toBe(Number(row.s_tool_calls));
      expect(Number(row.run_count)).toBe(Number(row.s_run_count));
      expect(Number(row.run_ms_sum)).toBe(Number(row.s_run_ms_sum));
      expect(row.run_hist).toEqual(row.s_run_hist);
    }
    expect(sums.reduce((total, row) => total + Number(row.tasks), 0)).toBe(all.length);
    const tools = await query<{ tool: string; calls: string }>(
      "SELECT tool, calls FROM task_tool_rollups WHERE width = 'day' AND profile = 'sums' ORDER BY tool",
    );
    const even = all.filter((_, i) => i % 2 === 0);
    expect(tools.map((row) => [row.tool, Number(row.calls)])).toEqual([
      ['Bash', even.length],
      ['Read', even.reduce((total, s) => total + (s.toolCalls.Read ?? 0), 0)],
    ]);
  });

  it("should keep every width's sums per project, months by the calendar, equal to the samples' own", async () => {
    // Across a month's end, two projects, profiles and outcomes mixed, in two batches that add to
    // the same rows (histograms of different lengths, tools by name).
    const start = Date.UTC(2029, 0, 31, 23, 58);
    const all = Array.from({ length: 24 }, (_, i) =>
      sample(start + i * 17_000, {
        project: i % 3 === 0 ? 'per-project-b' : 'per-project-a',
        profile: i % 2 === 0 ? 'x' : 'y',
        status: i % 5 === 0 ? 'FAILED' : 'COMPLETED',
        reason: i % 5 === 0 ? 'timeout' : null,
        startedAt: i % 7 === 0 ? null : new Date(start + i * 17_000 - 30 * 3 ** (i % 9)).toISOString(),
        costUsd: i % 4 === 0 ? null : i / 16,
        toolCalls: i % 2 === 0 ? { Read: i, Bash: 1 } : { Edit: 2 },
      }),
    );
    await samples.store(all.slice(0, 10));
    await samples.store(all.slice(6));
    const widths = ['minute', 'hour', 'day', 'month'];
    const rows = await query<Record<string, unknown>>(
      `SELECT width, bucket, project, tasks, cost_usd, input_tokens, cache_creation_tokens, run_count,
         run_ms_sum, run_hist, tools
       FROM task_project_rollups WHERE project LIKE 'per-project-%' ORDER BY width, bucket, project`,
    );
    const expected = await query<Record<string, unknown>>(
      `WITH s AS (
         SELECT w.width, date_trunc(w.width, s.finished_at, 'UTC') AS bucket, s.*
         FROM task_samples s CROSS JOIN unnest($2::text[]) AS w(width)
         WHERE s.project LIKE 'per-project-%'),
       tools AS (
         SELECT width, bucket, project, jsonb_object_agg(key, calls) AS tools FROM (
           SELECT s.width, s.bucket, s.project, e.key, sum(e.value::bigint) AS calls
           FROM s, jsonb_each_text(s.tool_calls) e GROUP BY 1, 2, 3, 4) t
         GROUP BY 1, 2, 3)
       SELECT s.width, s.bucket, s.project, count(*) AS tasks, coalesce(sum(s.cost_usd), 0) AS cost_usd,
         sum(s.input_tokens) AS input_tokens, sum(s.cache_creation_tokens) AS cache_creation_tokens,
         count(s.run_ms) AS run_count, coalesce(sum(s.run_ms), 0) AS run_ms_sum,
         hangar_sum_counts(hangar_count_in(width_bucket(s.run_ms, $1::int[]))) AS run_hist, t.tools
       FROM s JOIN tools t USING (width, bucket, project)
       GROUP BY s.width, s.bucket, s.project, t.tools ORDER BY 1, 2, 3`,
      [[...DURATION_BOUNDS_MS], widths],
    );
    // Both months and both projects in each width; the hour and the day cross midnight too.
    expect(rows.filter((row) => row.width === 'month')).toHaveLength(4);
    expect(rows.length).toBe(expected.length);
    const shown = (row: Record<string, unknown>) => ({
      ...row,
      bucket: (row.bucket as Date).toISOString(),
      tasks: Number(row.tasks),
      cost_usd: Math.round(Number(row.cost_usd) * 1e9),
      input_tokens: Number(row.input_tokens),
      cache_creation_tokens: Number(row.cache_creation_tokens),
      run_count: Number(row.run_count),
      run_ms_sum: Number(row.run_ms_sum),
      run_hist: (row.run_hist as string[]).map(Number),
    });
    expect(rows.map(shown)).toEqual(expected.map(shown));
    // The same samples' months in the full rollups too.
    const months = await query<{ bucket: Date; tasks: string }>(
      `SELECT bucket, sum(tasks) AS tasks FROM task_rollups
       WHERE width = 'month' AND project LIKE 'per-project-%' GROUP BY 1 ORDER BY 1`,
    );
    expect(months.map((row) => [row.bucket.toISOString(), Number(row.tasks)])).toEqual([
      ['2029-01-01T00:00:00.000Z', all.filter((s) => s.finishedAt < '2029-02').length],
      ['2029-02-01T00:00:00.000Z', all.filter((s) => s.finishedAt >= '2029-02').length],
    ]);
  });

  it('should store batches at the same time, each sample counted once in every width', async () => {
    // Eight batches at once over the same few minutes, hours, day and month, each repeating
    // samples of another: what two stores in flight (the metrics service's) do to the rows they share.
    const start = Date.UTC(2029, 6, 1, 10, 58, 30);
    const all = Array.from({ length: 400 }, (_, i) =>
      sample(start + ((i * 7919) % 400) * 900, {
        project: 'concurrent',
        profile: ['a', 'b', 'c'][i % 3]!,
        toolCalls: { Read: 1 + (i % 2) },
      }),
    );
    const batches = Array.from({ length: 8 }, (_, b) => [
      ...all.filter((_, i) => i % 8 === b),
      ...all.filter((_, i) => i % 8 === (b + 1) % 8).slice(0, 10),
    ]);
    const stored = await Promise.all(batches.map((batch) => samples.store(batch)));
    expect(stored.reduce((total, batch) => total + batch.length, 0)).toBe(all.length);
    const sums = await query<{ width: string; tasks: string; calls: string }>(
      `SELECT width, sum(tasks) AS tasks, sum((SELECT sum(value::bigint) FROM jsonb_each_text(tools))) AS calls
       FROM task_project_rollups WHERE project = 'concurrent' GROUP BY width ORDER BY width`,
    );
    const calls = all.reduce((total, s) => total + s.toolCalls.Read!, 0);
    expect(sums.map((row) => [row.width, Number(row.tasks), Number(row.calls)])).toEqual(
      ['day', 'hour', 'minute', 'month'].map((width) => [width, all.length, calls]),
    );
  });

  it('should park a record once, with its reason', async () => {
    await samples.park([{ id: '1-0', body: '{not json', reason: 'not JSON' }]);
    await samples.park([{ id: '1-0', body: '{not json', reason: 'not JSON' }]);
    expect((await samples.parked()).map(({ id, body, reason }) => ({ id, body, reason }))).toEqual([
      { id: '1-0', body: '{not json', reason: 'not JSON' },
    ]);
  });
});
