import {
  AlertStore,
  createPrismaClient,
  migrate,
  TaskSamples,
  type NewAnomaly,
  type PrismaClient,
  type TaskSample,
} from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

// Anomalies as the metrics service stores them (docs/alerts.md#anomalies): a batch's in one
// statement, each task and metric once, whichever batch saw it first.
describe('AlertStore anomalies', () => {
  const { url, name } = freshDatabaseUrl('anomalies');
  let prisma: PrismaClient;
  let alerts: AlertStore;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    alerts = new AlertStore(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  const anomaly = (
    taskId: string,
    metric: 'cost_usd' | 'run_seconds' | 'tool_calls',
    value: number,
  ): NewAnomaly => ({
    taskId,
    project: 'default',
    profile: 'default',
    metric,
    value,
    median: 0.1,
    mad: 0.02,
    score: (value - 0.1) / (1.4826 * 0.02),
    baselineTasks: 40,
    at: new Date(Date.UTC(2031, 0, 10, 12)),
  });

  it('should store a batch once per task and metric and say which were new', async () => {
    const first = [
      anomaly('t-1', 'cost_usd', 2),
      anomaly('t-1', 'run_seconds', 900),
      anomaly('t-2', 'cost_usd', 3),
    ];
    expect(await alerts.addAnomalies(first)).toEqual(first);

    // A batch read again after a restart, with one task new to it and one repeated in it.
    const again = [
      anomaly('t-1', 'cost_usd', 2),
      anomaly('t-3', 'tool_calls', 80),
      anomaly('t-3', 'tool_calls', 80),
      anomaly('t-2', 'cost_usd', 3),
    ];
    expect(await alerts.addAnomalies(again)).toEqual([again[1]]);
    expect(await alerts.addAnomalies([])).toEqual([]);

    const stored = await alerts.listAnomalies(['default']);
    expect(stored.map((a) => `${a.taskId} ${a.metric} ${a.value}`).sort()).toEqual([
      't-1 cost_usd 2',
      't-1 run_seconds 900',
      't-2 cost_usd 3',
      't-3 tool_calls 80',
    ]);
    expect(stored.find((a) => a.taskId === 't-1' && a.metric === 'cost_usd')).toMatchObject({
      project: 'default',
      profile: 'default',
      median: 0.1,
      mad: 0.02,
      baselineTasks: 40,
      at: '2031-01-10T12:00:00.000Z',
    });
  });
  it("should store an hour's anomaly once per project, profile, measure and hour, beside a task's", async () => {
    const hour = (metric: 'hour_failure_rate' | 'hour_cost_usd', at: number): NewAnomaly => ({
      taskId: null,
      hour: new Date(at),
      project: 'default',
      profile: 'default',
      metric,
      value: 0.9,
      median: 0.1,
      mad: 0,
      score: 9,
      baselineTasks: 30,
      at: new Date(at + 3_600_000),
    });
    const h = Date.UTC(2031, 0, 11, 9);
    const first = [hour('hour_failure_rate', h), hour('hour_cost_usd', h), anomaly('t-9', 'cost_usd', 4)];
    expect(await alerts.addAnomalies(first)).toEqual(first);
    const again = [hour('hour_failure_rate', h), hour('hour_failure_rate', h + 3_600_000)];
    expect(await alerts.addAnomalies(again)).toEqual([again[1]]);
    const stored = await alerts.listAnomalies(['default']);
    const hours = stored.filter((a) => a.taskId === null).map((a) => `${a.hour} ${a.metric}`);
    expect(hours.sort()).toEqual([
      '2031-01-11T09:00:00.000Z hour_cost_usd',
      '2031-01-11T09:00:00.000Z hour_failure_rate',
      '2031-01-11T10:00:00.000Z hour_failure_rate',
    ]);
  });

  it("should sum each profile's hours from the hour rollups: tasks judged, failed, cost", async () => {
    const samples = new TaskSamples(prisma);
    const h = Date.UTC(2031, 2, 3, 4);
    const sample = (i: number, at: number, status: 'COMPLETED' | 'FAILED' | 'CANCELLED'): TaskSample => ({
      kind: 'task.ended',
      taskId: `hs-${i}`,
      project: 'sums',
      profile: 'p',
      status,
      reason: status === 'COMPLETED' ? null : status === 'FAILED' ? 'timeout' : 'cancelled',
      attempts: 1,
      createdAt: new Date(at - 2000).toISOString(),
      startedAt: new Date(at - 1000).toISOString(),
      finishedAt: new Date(at).toISOString(),
      costUsd: 0.25,
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      numTurns: 1,
      toolCalls: {},
    });
    await samples.store([
      sample(1, h + 60_000, 'COMPLETED'),
      sample(2, h + 120_000, 'FAILED'),
      sample(3, h + 180_000, 'CANCELLED'),
      sample(4, h + 3_600_000 + 5, 'FAILED'),
    ]);
    const sums = (await alerts.hourSums(new Date(h - 3_600_000), new Date(h + 3_600_000))).filter(
      (row) => row.project === 'sums',
    );
    expect(sums).toEqual([
      { project: 'sums', profile: 'p', hourMs: h, judged: 2, failed: 1, costUsd: 0.75 },
      { project: 'sums', profile: 'p', hourMs: h + 3_600_000, judged: 1, failed: 1, costUsd: 0.25 },
    ]);
    expect(await alerts.hourSums(new Date(h + 7_200_000), new Date(h + 7_200_000))).toEqual([]);
  });
});
