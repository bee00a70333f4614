import { Client } from 'pg';
import {
  DURATION_BOUNDS_MS,
  failureReason,
  histogramQuantile,
  type Analytics,
  type CreatedApiToken,
  type Problem,
  type Project,
  type RunnersOverview,
  type Task,
  type TaskEndedRecord,
  type TaskStatus,
} from '@hangar/contracts';
import { createRedis, MetricRecordStream } from '@hangar/redis';
import { redisUrl, ServiceStack } from '@hangar/testing';
import { createTask, request, signIn, type ApiResponse } from './support';

const RUNNER_ID = 'runner-analytics';
const HOUR = 3_600_000;
const DAY = 86_400_000;
// Day 1 of the seeded tasks: eleven days ago (UTC), so that the default range (the last seven
// days) holds only the tasks this file runs, and within the per-minute rollups' 14 days.
const DAY1 = Math.floor(Date.now() / DAY) * DAY - 11 * DAY;
// An instant of a seeded day (day 0 is the day before day 1), as an ISO string.
const on = (day: number, time: string) =>
  new Date(DAY1 + (day - 1) * DAY + Date.parse(`1970-01-01T${time}Z`)).toISOString();
const RANGE = `from=${on(1, '00:00:00.000')}&to=${on(4, '00:00:00.000')}`;

interface SeededTask {
  project: 'default' | 'beta';
  profile: 'default' | 'reviewer';
  status: TaskStatus;
  createdAt: string;
  // From start to finish; undefined: it never started.
  durationMs?: number;
  costUsd?: number;
  tokens?: [input: number, output: number, cacheRead: number, cacheCreation: number];
  tools?: string[];
}

// Stored tasks with known numbers, ended (their record sent, as their lifecycle does) days ago.
const SEEDED: Record<string, SeededTask> = {
  a1: {
    project: 'default',
    profile: 'default',
    status: 'COMPLETED',
    createdAt: on(1, '10:00:00.000'),
    durationMs: 60_000,
    costUsd: 0.25,
    tokens: [100, 50, 1000, 10],
    tools: ['Bash', 'Read', 'Bash'],
  },
  a2: {
    project: 'default',
    profile: 'reviewer',
    status: 'FAILED',
    createdAt: on(1, '15:30:00.000'),
    durationMs: 120_000,
    costUsd: 0.5,
    tokens: [200, 25, 0, 0],
    tools: ['Edit', 'Bash'],
  },
  a3: {
    project: 'default',
    profile: 'default',
    status: 'COMPLETED',
    createdAt: on(3, '08:00:00.000'),
    durationMs: 30_000,
    costUsd: 1.25,
    tokens: [300, 75, 500, 20],
    tools: ['Write'],
  },
  a4: { project: 'default', profile: 'default', status: 'CANCELLED', createdAt: on(3, '09:00:00.000') },
  // Ended just outside [day 1, day 4): never counted there.
  before: {
    project: 'default',
    profile: 'default',
    status: 'COMPLETED',
    createdAt: on(0, '23:59:57.000'),
    durationMs: 1000,
    costUsd: 100,
    tokens: [1, 1, 1, 1],
    tools: ['Bash'],
  },
  atEnd: {
    project: 'default',
    profile: 'default',
    status: 'COMPLETED',
    createdAt: on(4, '00:00:00.000'),
    durationMs: 1000,
    costUsd: 100,
    tokens: [1, 1, 1, 1],
  },
  b1: {
    project: 'beta',
    profile: 'default',
    status: 'COMPLETED',
    createdAt: on(2, '12:00:00.000'),
    durationMs: 10_000,
    costUsd: 2,
    tokens: [1000, 500, 0, 0],
    tools: ['BetaOnlyTool', 'BetaOnlyTool'],
  },
};

const zeros = {
  tasks: 0,
  costUsd: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
};
const statuses = (counts: Partial<Record<TaskStatus, number>>) =>
  (['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const).map((status) => ({
    status,
    count: counts[status] ?? 0,
  }));

// The percentiles analytics read from a histogram of these durations (DURATION_BOUNDS_MS): each
// within a fifth of the exact one.
function durationOf(durations: number[]): { p50Ms: number; p95Ms: number } {
  const hist: number[] = [];
  for (const ms of durations) {
    const bucket = DURATION_BOUNDS_MS.filter((bound) => ms >= bound).length;
    while (hist.length <= bucket) hist.push(0);
    hist[bucket]! += 1;
  }
  const sorted = [...durations].sort((a, b) => a - b);
  const exact = (q: number) => {
    const rank = q * (sorted.length - 1);
    const low = Math.floor(rank);
    return sorted[low]! + (rank - low) * ((sorted[low + 1] ?? sorted[low]!) - sorted[low]!);
  };
  const read = (q: number) => {
    const value = Math.round(histogramQuantile(hist, q)!);
    expect(Math.abs(value - exact(q)) / exact(q)).toBeLessThan(0.2);
    return value;
  };
  return { p50Ms: read(0.5), p95Ms: read(0.95) };
}

// GET /api/v1/analytics and /api/v1/runners through the gateway, with a real orchestrator and
// runner for the queue and the heartbeats. Two projects: default (A) and beta (B).
describe('analytics and runners', () => {
  let stack: ServiceStack;
  let db: Client;
  let admin: string; // the instance administrator's session: sees both projects
  let alphaViewer: string;
  let betaViewer: string;

  const as = (credential: string): Record<string, string> =>
    credential.startsWith('hgr_')
      ? { authorization: `Bearer ${credential}` }
      : { authorization: '', cookie: credential };
  const get = async <T>(credential: string, path: string): Promise<T> => {
    const response = await request(stack, 'GET', path, undefined, as(credential));
    if (response.status !== 200)
      throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as T;
  };
  const analytics = (credential: string, query: string) =>
    get<Analytics>(credential, `/api/v1/analytics?${query}`);
  const runners = (credential: string, query = '') =>
    get<RunnersOverview>(credential, `/api/v1/runners${query}`);

  // The queue and heartbeats change when other processes act: look again until they show it.
  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`still not there after 30 s: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function viewerToken(project: string): Promise<string> {
    const made = await request(
      stack,
      'POST',
      `/api/v1/tokens?project=${project}`,
      { name: `${project}-viewer`, role: 'viewer' },
      as(admin),
    );
    expect(made.status).toBe(201);
    return (made.body as CreatedApiToken).token;
  }

  async function seed() {
    const ids = async (sql: string, ...values: string[]) =>
      (await db.query<{ id: string }>(sql, values)).rows[0]!.id;
    const project = {
      default: 'default',
      beta: await ids('SELECT id FROM projects WHERE slug = $1', 'beta'),
    };
    const ended: TaskEndedRecord[] = [];
    for (const [id, task] of Object.entries(SEEDED)) {
      const profile = await ids(
        'SELECT id FROM agent_profiles WHERE project_id = $1 AND name = $2',
        project[task.project],
        task.profile,
      );
      const created = Date.parse(task.createdAt);
      const started = task.durationMs === undefined ? null : new Date(created + 1000);
      const finished = started ? new Date(started.getTime() + task.durationMs!) : new Date(created + 5000);
      await db.query(
        `INSERT INTO tasks (id, project_id, profile_id, status, prompt, timeout_seconds, cost_usd, input_tokens,
           output_tokens, cache_read_tokens, cache_creation_tokens, created_at, started_at, finished_at, updated_at)
         VALUES ($1, $2, $3, $4, 'seeded', 600, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
        [
          id,
          project[task.project],
          profile,
          task.status,
          task.costUsd ?? null,
          ...(task.tokens ?? [null, null, null, null]),
          new Date(created),
          started,
          finished,
        ],
      );
      ended.push({
        kind: 'task.ended',
        taskId: id,
        project: task.project,
        profile: task.profile,
        status: task.status,
        reason: failureReason(task.status, null),
        attempts: 1,
        createdAt: new Date(created).toISOString(),
        startedAt: started?.toISOString() ?? null,
        finishedAt: finished.toISOString(),
        costUsd: task.costUsd ?? null,
        inputTokens: task.tokens?.[0] ?? null,
        outputTokens: task.tokens?.[1] ?? null,
        cacheReadTokens: task.tokens?.[2] ?? null,
        cacheCreationTokens: task.tokens?.[3] ?? null,
        numTurns: 1,
      });
      // Tool calls among other events: only tool.use counts.
      const events: { type: string; data: Record<string, unknown> }[] = (task.tools ?? []).flatMap(
        (name, index) => [
          { type: 'tool.use', data: { toolUseId: `tu-${index}`, name, input: {} } },
          { type: 'tool.result', data: { toolUseId: `tu-${index}`, content: 'ok', isError: false } },
        ],
      );
      events.push({ type: 'assistant.text', data: { text: 'done', name: 'NotATool' } });
      for (const [index, event] of events.entries()) {
        await db.query('INSERT INTO task_events (task_id, seq, type, data, at) VALUES ($1, $2, $3, $4, $5)', [
          id,
          index + 1,
          event.type,
          JSON.stringify(event.data),
          finished,
        ]);
      }
    }
    // Their records, as their lifecycle sent them when they ended: the metrics service stores them.
    const redis = createRedis(redisUrl());
    try {
      await new MetricRecordStream(redis, { prefix: stack.redisPrefix }).append(ended);
    } finally {
      await redis.quit();
    }
    await eventually(
      async () =>
        (
          await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM task_samples WHERE task_id = ANY($1)',
            [ended.map((record) => record.taskId)],
          )
        ).rows[0]?.n,
      (stored) => stored === ended.length,
    );
  }

  beforeAll(async () => {
    stack = await ServiceStack.create('analytics', { RUNNER_SLOTS: '2', RUNNER_ID });
    await stack.start();
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    admin = await signIn(stack, stack.admin.email, stack.admin.password);
    const beta = await request(stack, 'POST', '/api/v1/projects', { slug: 'beta', name: 'Beta' }, as(admin));
    expect((beta.body as Project).slug).toBe('beta');
    expect((await request(stack, 'POST', '/api/v1/profiles', { name: 'reviewer' })).status).toBe(201);
    alphaViewer = await viewerToken('default');
    betaViewer = await viewerToken('beta');
    await seed();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
  });

  describe('GET /api/v1/analytics', () => {
    it("should sum a project's tasks exactly, per day with empty days as zeros, for a viewer", async () => {
      const summary = await analytics(alphaViewer, RANGE);
      expect(summary).toEqual({
        from: on(1, '00:00:00.000'),
        to: on(4, '00:00:00.000'),
        bucket: 'day',
        totals: {
          tasks: 4,
          costUsd: 2,
          inputTokens: 600,
          outputTokens: 150,
          cacheReadTokens: 1500,
          cacheCreationTokens: 30,
        },
        perBucket: [
          {
            bucket: on(1, '00:00:00.000'),
            tasks: 2,
            costUsd: 0.75,
            inputTokens: 300,
            outputTokens: 75,
            cacheReadTokens: 1000,
            cacheCreationTokens: 10,
          },
          { bucket: on(2, '00:00:00.000'), ...zeros },
          {
            bucket: on(3, '00:00:00.000'),
            tasks: 2,
            costUsd: 1.25,
            inputTokens: 300,
            outputTokens: 75,
            cacheReadTokens: 500,
            cacheCreationTokens: 20,
          },
        ],
        byStatus: statuses({ COMPLETED: 2, FAILED: 1, CANCELLED: 1 }),
        // 30 s, 60 s, 120 s (the cancelled task never started), read from the rollups' histogram.
        duration: durationOf([30_000, 60_000, 120_000]),
        topTools: [
          { name: 'Bash', count: 3 },
          { name: 'Edit', count: 1 },
          { name: 'Read', count: 1 },
          { name: 'Write', count: 1 },
        ],
        byProfile: [
          { profile: 'default', tasks: 3, costUsd: 1.5 },
          { profile: 'reviewer', tasks: 1, costUsd: 0.5 },
        ],
        byProject: [{ project: 'default', tasks: 4, costUsd: 2 }],
      });
    });

    it('should fill every hour of the range when bucketed by hour', async () => {
      const summary = await analytics(
        alphaViewer,
        `from=${on(1, '09:30:00.000')}&to=${on(1, '16:00:00.000')}&bucket=hour`,
      );
      expect(
        summary.perBucket.map((bucket) => [bucket.bucket.slice(11, 13), bucket.tasks, bucket.costUsd]),
      ).toEqual([
        ['09', 0, 0],
        ['10', 1, 0.25],
        ['11', 0, 0],
        ['12', 0, 0],
        ['13', 0, 0],
        ['14', 0, 0],
        ['15', 1, 0.5],
      ]);
      expect(summary.totals).toMatchObject({ tasks: 2, costUsd: 0.75 });
    });

    it("should never show another project's numbers", async () => {
      const beta = await analytics(betaViewer, RANGE);
      expect(beta.totals).toEqual({
        tasks: 1,
        costUsd: 2,
        inputTokens: 1000,
        outputTokens: 500,
        cacheReadTokens: 0,
        cacheCreationTokens: 0,
      });
      expect(beta.perBucket.map((bucket) => bucket.tasks)).toEqual([0, 1, 0]);
      expect(beta.topTools).toEqual([{ name: 'BetaOnlyTool', count: 2 }]);
      expect(beta.byProfile).toEqual([{ profile: 'default', tasks: 1, costUsd: 2 }]);
      expect(beta.byProject).toEqual([{ project: 'beta', tasks: 1, costUsd: 2 }]);
      expect(beta.duration).toEqual(durationOf([10_000]));
      // Naming the other project does not get in: it does not exist for this caller.
      const refused = await request(
        stack,
        'GET',
        `/api/v1/analytics?project=default&${RANGE}`,
        undefined,
        as(betaViewer),
      );
      expect(refused.status).toBe(404);
      expect((refused.body as Problem).code).toBe('PROJECT_NOT_FOUND');
    });

    it('should cover every project the caller sees without ?project=, and one with it', async () => {
      const both = await analytics(admin, RANGE);
      expect(both.totals).toMatchObject({ tasks: 5, costUsd: 4, inputTokens: 1600 });
      expect(both.byProject).toEqual([
        { project: 'default', tasks: 4, costUsd: 2 },
        { project: 'beta', tasks: 1, costUsd: 2 },
      ]);
      expect(both.topTools[0]).toEqual({ name: 'Bash', count: 3 });
      expect(both.topTools).toContainEqual({ name: 'BetaOnlyTool', count: 2 });
      const narrowed = await analytics(admin, `project=beta&${RANGE}`);
      expect(narrowed.byProject).toEqual([{ project: 'beta', tasks: 1, costUsd: 2 }]);
    });

    it.each([
      ['from after to', 'from=2024-03-05T00:00:00Z&to=2024-03-01T00:00:00Z', 'from', 'must be before to'],
      ['from equal to to', 'from=2024-03-01T00:00:00Z&to=2024-03-01T00:00:00Z', 'from', 'must be before to'],
      [
        'a range over 366 days',
        'from=2023-01-01T00:00:00Z&to=2024-03-01T00:00:00Z',
        'from',
        'at most 366 days',
      ],
      ['a from long ago, to defaulting to now', 'from=2020-01-01T00:00:00Z', 'from', 'at most 366 days'],
      ['a from that is no timestamp', 'from=yesterday', 'from', ''],
      ['an unknown bucket', 'bucket=week', 'bucket', ''],
      ['an unknown parameter', 'limit=3', '(body)', 'unknown field(s): limit'],
    ])('should answer 400 naming the field for %s', async (_case, query, field, message) => {
      const response = await request(stack, 'GET', `/api/v1/analytics?${query}`, undefined, as(alphaViewer));
      expect(response.status).toBe(400);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      const problem = response.body as Problem;
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors).toEqual([{ field, message: expect.stringContaining(message) as string }]);
    });

    it('should allow exactly 366 days', async () => {
      const yearBefore = new Date(Date.parse(on(4, '00:00:00.000')) - 366 * DAY).toISOString();
      const summary = await analytics(alphaViewer, `from=${yearBefore}&to=${on(4, '00:00:00.000')}`);
      expect(summary.perBucket).toHaveLength(366);
      expect(summary.totals.tasks).toBe(5); // a1–a4 and the one that ended just before day 1
    });
  });

  describe('GET /api/v1/runners', () => {
    let running: Task; // default
    let waiting: Task; // default, behind the full runner
    let betaRunning: Task;

    afterAll(async () => {
      for (const task of [waiting, running, betaRunning].filter(Boolean))
        await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`, undefined, as(admin));
      await eventually(
        () => runners(admin),
        (overview) => overview.tasks.running === 0 && overview.tasks.queued === 0,
      );
    });

    it("should show the queue and each runner's tasks, only within the caller's projects", async () => {
      betaRunning = (
        await request(
          stack,
          'POST',
          '/api/v1/tasks?project=beta',
          { prompt: 'beta work', scenario: 'slow' },
          as(admin),
        )
      ).body as Task;
      running = await createTask(stack, { prompt: 'alpha work', scenario: 'slow' });
      // Both slots taken: the next one waits in the queue.
      await eventually(
        () => runners(admin),
        (overview) => overview.runners.some((runner) => runner.running.length === 2),
      );
      waiting = await createTask(stack, { prompt: 'alpha waits', scenario: 'slow' });
      const alpha = await eventually(
        () => runners(alphaViewer),
        (overview) => overview.queue.waiting === 1,
      );
      // The one runner, holding one task the caller can see.
      const oneRunner = (task: Task, project: string) => ({
        id: RUNNER_ID,
        lastHeartbeatAt: expect.any(String) as string,
        running: [{ id: task.id, project }],
        sandbox: 'bwrap',
      });
      // The pools are the installation's, the same for every caller: the one runner registered
      // its pool, with its slots and how many it runs (as of its last registration).
      const pools = [
        {
          name: 'default',
          labels: ['executor=process', 'pool=default'],
          providers: expect.arrayContaining(['claude']) as string[],
          executors: ['process'],
          runners: [
            {
              id: RUNNER_ID,
              live: true,
              slots: 2,
              running: expect.any(Number) as number,
              seenAt: expect.any(String) as string,
            },
          ],
          slots: 2,
          running: expect.any(Number) as number,
        },
      ];
      expect(alpha).toEqual({
        queue: { waiting: 1, delayed: 0, active: 1 },
        tasks: { queued: 1, running: 1 },
        runners: [oneRunner(running, 'default')],
        pools,
      });
      expect(Date.now() - Date.parse(alpha.runners[0]!.lastHeartbeatAt!)).toBeLessThan(60_000);

      expect(await runners(betaViewer)).toEqual({
        queue: { waiting: 0, delayed: 0, active: 1 },
        tasks: { queued: 0, running: 1 },
        runners: [oneRunner(betaRunning, 'beta')],
        pools,
      });

      const everything = await runners(admin);
      expect(everything.queue).toEqual({ waiting: 1, delayed: 0, active: 2 });
      expect(everything.tasks).toEqual({ queued: 1, running: 2 });
      expect(everything.runners).toHaveLength(1);
      expect(everything.runners[0]!.running.map((task) => task.id).sort()).toEqual(
        [running.id, betaRunning.id].sort(),
      );
      expect((await runners(admin, '?project=beta')).runners[0]!.running).toEqual([
        { id: betaRunning.id, project: 'beta' },
      ]);
    });

    it('should refuse a project the caller is not in', async () => {
      const response: ApiResponse = await request(
        stack,
        'GET',
        '/api/v1/runners?project=default',
        undefined,
        as(betaViewer),
      );
      expect(response.status).toBe(404);
      expect((response.body as Problem).code).toBe('PROJECT_NOT_FOUND');
    });
  });

  describe('defaults and the OpenAPI document', () => {
    it('should default to the last seven days, by day, counting the tasks just run', async () => {
      const before = Date.now();
      // The runners test's tasks ended as it finished: their samples are stored as the metrics
      // service reads their records.
      const summary = await eventually(
        () => analytics(alphaViewer, ''),
        (read) => read.totals.tasks >= 2,
      );
      expect(Date.parse(summary.to)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(summary.to) - Date.parse(summary.from)).toBe(7 * 24 * HOUR);
      expect(summary.bucket).toBe('day');
      const firstDay = Date.parse(summary.from.slice(0, 10));
      expect(summary.perBucket.map((bucket) => bucket.bucket)).toEqual(
        Array.from({ length: Math.ceil((Date.parse(summary.to) - firstDay) / (24 * HOUR)) }, (_, day) =>
          new Date(firstDay + day * 24 * HOUR).toISOString(),
        ),
      );
      // The two default tasks of the runners test (beta's is not counted).
      expect(summary.totals.tasks).toBe(2);
      expect(summary.byProject).toEqual([
        { project: 'default', tasks: 2, costUsd: expect.any(Number) as number },
      ]);
    });

    it('should declare both routes and their shapes in /api/openapi.json', async () => {
      const document = (await request(stack, 'GET', '/api/openapi.json')).body as {
        paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
        components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
      };
      expect(
        document.paths['/api/v1/analytics']?.get?.parameters?.map((parameter) => parameter.name),
      ).toEqual(expect.arrayContaining(['project', 'from', 'to', 'bucket']));
      expect(document.paths['/api/v1/runners']?.get?.parameters?.map((parameter) => parameter.name)).toEqual([
        'project',
      ]);
      expect(Object.keys(document.components.schemas.AnalyticsDto?.properties ?? {})).toEqual(
        expect.arrayContaining([
          'totals',
          'perBucket',
          'byStatus',
          'duration',
          'topTools',
          'byProfile',
          'byProject',
        ]),
      );
      expect(Object.keys(document.components.schemas.RunnersOverviewDto?.properties ?? {})).toEqual([
        'queue',
        'tasks',
        'runners',
        'pools',
      ]);
    });
  });
});
