import { AlertStore, createPrismaClient, migrate, type NewAnomaly, type PrismaClient } from '../src';
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

  const anomaly = (taskId: string, metric: NewAnomaly['metric'], value: number): NewAnomaly => ({
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
});
