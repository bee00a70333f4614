import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@hangar/testing';
import { Client } from 'pg';
import { CHART_DASHBOARDS, queryPanels, readDashboard } from './support/grafana';
import { COMPOSE_DIR } from './support/repo';

// The team leads' dashboard's PostgreSQL panels, run as Grafana runs them — its macros
// substituted, as the read-only role the compose trial makes — against a freshly migrated
// database holding a few rollups, anomalies, firings and workflow runs.
const dashboard = readDashboard(path.join(CHART_DASHBOARDS, 'hangar-usage.json'));
const FROM = '2026-11-01T00:00:00Z';
const TO = '2026-12-31T23:59:59Z';

// PostgreSQL type ids (pg_type.oid).
const TIMESTAMPTZ = 1184;
const TEXT = 25;
const NUMBERS = new Set([20, 21, 23, 700, 701, 1700]);
const BOOL = 16;

// What Grafana's PostgreSQL datasource does to a query before sending it: `$__timeFilter(col)`
// becomes `col BETWEEN '<from>' AND '<to>'` (RFC 3339, UTC), and a multi-value variable its
// values quoted and comma-separated ('web','api'). Anything else with a `$` is left to fail.
function grafanaSql(sql: string, variables: Record<string, string[]>): string {
  const substituted = sql
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_, column: string) => `${column.trim()} BETWEEN '${FROM}' AND '${TO}'`,
    )
    .replace(/\$([a-z]+)\b/g, (match, name: string) => {
      const values = variables[name];
      return values ? values.map((value) => `'${value.replaceAll("'", "''")}'`).join(',') : match;
    });
  expect(substituted).not.toMatch(/\$(?!\$)/);
  return substituted;
}

// The columns each panel shows: time series have `time` first, then an optional `metric` (the
// series' name) and numbers; tables their own.
const TABLE_COLUMNS: Record<string, string[]> = {
  'Cost and usage by project and profile': [
    'project',
    'profile',
    'tasks',
    'cost_usd',
    'cost_per_task_usd',
    'tokens',
    'turns',
    'tool_calls',
  ],
  'Most used tools': ['tool', 'calls'],
  'Anomalies, newest first': [
    'time',
    'project',
    'profile',
    'metric',
    'value',
    'median',
    'score',
    'task_id',
    'hour',
  ],
  'Alert firings, newest first': [
    'time',
    'project',
    'rule',
    'series',
    'severity',
    'value',
    'resolved_at',
    'silenced',
  ],
  'Workflow runs by rounds': ['workflow', 'rounds', 'runs', 'completed', 'failed', 'cancelled'],
};

const sqlPanels = queryPanels(dashboard).flatMap((panel) =>
  (panel.targets ?? []).flatMap((target) =>
    target.rawSql === undefined ? [] : [{ title: panel.title, format: target.format, rawSql: target.rawSql }],
  ),
);

// A histogram over DURATION_BOUNDS_MS with `count` durations in bucket `index` (from 0).
const histogram = (index: number, count: number) =>
  `array_fill(0::bigint, ARRAY[${index}]) || ${count}::bigint`;

describe("the team leads' dashboard's PostgreSQL panels", () => {
  let database: TestDatabase;
  let owner: Client;
  // Logged in as the read-only role, as Grafana is.
  let grafana: Client;
  const reader = `hangar_grafana_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase('grafana_sql');
    owner = new Client({ connectionString: database.url });
    await owner.connect();
    await owner.query(`
      INSERT INTO projects (id, slug, name) VALUES ('p-web', 'web', 'Web'), ('p-api', 'api', 'API'), ('p-ops', 'ops', 'Ops');
      INSERT INTO task_rollups (width, bucket, project, profile, status, reason, tasks, cost_usd, input_tokens,
        output_tokens, cache_read_tokens, cache_creation_tokens, num_turns, tool_calls, queue_count, queue_ms_sum,
        queue_hist, run_count, run_ms_sum, run_hist)
      VALUES
        ('day', '2026-12-01', 'web', 'coder', 'COMPLETED', '', 8, 4.0, 800, 400, 200, 100, 40, 30, 8, 800,
          ${histogram(10, 8)}, 8, 8000, ${histogram(20, 8)}),
        ('day', '2026-12-01', 'web', 'coder', 'FAILED', 'timeout', 2, 1.0, 200, 100, 0, 0, 10, 5, 2, 200,
          ${histogram(10, 2)}, 2, 2000, ${histogram(30, 2)}),
        ('day', '2026-12-02', 'api', 'reviewer', 'CANCELLED', 'cancelled', 1, 0.5, 10, 10, 0, 0, 1, 0, 1, 50,
          ${histogram(4, 1)}, 0, 0, '{}'),
        ('hour', '2026-12-01 10:00', 'web', 'coder', 'COMPLETED', '', 8, 4.0, 800, 400, 200, 100, 40, 30, 8, 800,
          ${histogram(10, 8)}, 8, 8000, ${histogram(20, 8)});
      INSERT INTO task_tool_rollups (width, bucket, project, profile, tool, calls)
      VALUES ('day', '2026-12-01', 'web', 'coder', 'Bash', 20), ('day', '2026-12-01', 'web', 'coder', 'Edit', 15),
        ('day', '2026-12-01', 'api', 'reviewer', 'Read', 99);
      INSERT INTO anomalies (id, task_id, project, profile, metric, value, median, mad, score, baseline_tasks, at)
      VALUES ('a1', 't1', 'web', 'coder', 'cost', 20, 1, 0.1, 12, 30, '2026-12-01 12:00');
      INSERT INTO alert_rules (id, project_id, name, series, comparator, threshold, window_minutes, for_seconds,
        severity, created_by)
      VALUES ('r-web', 'p-web', 'Failures', 'task.failure_rate', '>', 0.2, 30, 0, 'critical', 'user:ann'),
        ('r-all', NULL, 'Runners', 'runner.live', '<', 1, 5, 0, 'warning', 'user:ann'),
        ('r-ops', 'p-ops', 'Ops cost', 'task.cost_usd', '>', 5, 60, 0, 'info', 'user:ann');
      INSERT INTO alert_firings (id, rule_id, value, fired_at, resolved_at, silenced)
      VALUES ('f1', 'r-web', 0.3, '2026-12-01 13:00', '2026-12-01 14:00', false),
        ('f2', 'r-all', 0, '2026-12-02 09:00', NULL, true), ('f3', 'r-ops', 9, '2026-12-02 10:00', NULL, false);
      INSERT INTO workflows (id, project_id, name, created_by, updated_at)
      VALUES ('w1', 'p-web', 'plan-do-review', 'user:ann', now()), ('w2', 'p-web', 'consensus', 'user:ann', now());
      INSERT INTO workflow_runs (id, workflow_id, version, project_id, status, created_by, finished_at, updated_at)
      VALUES ('run1', 'w1', 1, 'p-web', 'COMPLETED', 'user:ann', '2026-12-01 15:00', now()),
        ('run2', 'w1', 1, 'p-web', 'FAILED', 'user:ann', '2026-12-02 15:00', now()),
        ('run3', 'w2', 1, 'p-web', 'COMPLETED', 'user:ann', '2026-12-02 16:00', now()),
        ('run4', 'w1', 1, 'p-web', 'RUNNING', 'user:ann', NULL, now());
      INSERT INTO workflow_steps (id, run_id, key, step_id, iteration, status, updated_at)
      VALUES ('s1', 'run1', 'plan', 'plan', NULL, 'COMPLETED', now()),
        ('s2', 'run1', 'rounds', 'rounds', NULL, 'COMPLETED', now()),
        ('s3', 'run1', 'work@1', 'work', 1, 'COMPLETED', now()),
        ('s4', 'run1', 'review@1', 'review', 1, 'COMPLETED', now()),
        ('s5', 'run1', 'work@2', 'work', 2, 'COMPLETED', now()),
        ('s6', 'run1', 'review@2', 'review', 2, 'COMPLETED', now()),
        ('s7', 'run2', 'review@1', 'review', 1, 'FAILED', now()),
        ('s8', 'run3', 'judge', 'judge', NULL, 'COMPLETED', now()),
        ('s9', 'run4', 'review@3', 'review', 3, 'RUNNING', now());
    `);
    // The compose trial's role script, as psql runs it (`-v password=…`: :'password' is a quoted
    // literal), under a name of this test's own: roles belong to the whole server.
    const script = readFileSync(path.join(COMPOSE_DIR, 'grafana', 'reader-role.sql'), 'utf8')
      .replaceAll('hangar_grafana', reader)
      .replaceAll(":'password'", "'not-used-here'");
    await owner.query(script);
    const url = new URL(database.url);
    url.username = reader;
    url.password = 'not-used-here';
    grafana = new Client({ connectionString: url.toString() });
    await grafana.connect();
  });

  afterAll(async () => {
    await grafana?.end();
    await owner?.end();
    await database?.drop();
    const admin = new Client({ connectionString: new URL('/postgres', database.url).toString() });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${reader}`).finally(() => admin.end());
  });

  async function run(sql: string, projects: string[]) {
    return grafana.query<Record<string, unknown>>(grafanaSql(sql, { project: projects }));
  }

  it('should list the projects for the project variable', async () => {
    const project = dashboard.templating.list.find((variable) => variable.name === 'project')!;
    const result = await grafana.query<{ project: string }>(project.query as string);
    // The migrations' own project, `default`, has no tasks yet: listed from projects.
    expect(result.rows.map((row) => Object.values(row)[0])).toEqual(['api', 'default', 'ops', 'web']);
  });

  it.each(sqlPanels)(
    'should run "$title" and return the columns it shows',
    async ({ title, format, rawSql }) => {
      expect(rawSql).toContain('$project');
      for (const projects of [['web'], ['web', 'api']]) {
        const result = await run(rawSql, projects);
        expect({ title, rows: result.rows.length > 0 }).toEqual({ title, rows: true });
        const columns = result.fields.map((field) => ({ name: field.name, type: field.dataTypeID }));
        if (format === 'time_series') {
          expect(columns[0]).toEqual({ name: 'time', type: TIMESTAMPTZ });
          const rest = columns.slice(1).filter((column) => column.name !== 'metric');
          expect(rest.length).toBeGreaterThan(0);
          for (const column of rest)
            expect({ title, column: column.name, number: NUMBERS.has(column.type) }).toEqual({
              title,
              column: column.name,
              number: true,
            });
          expect(columns.find((column) => column.name === 'metric')?.type ?? TEXT).toBe(TEXT);
          // Grafana wants time series in time order.
          const times = result.rows.map((row) => (row['time'] as Date).getTime());
          expect(times).toEqual([...times].sort((a, b) => a - b));
        } else {
          expect(format).toBe('table');
          expect(columns.map((column) => column.name)).toEqual(TABLE_COLUMNS[title]);
          for (const column of columns) expect([TIMESTAMPTZ, TEXT, BOOL, ...NUMBERS]).toContain(column.type);
        }
      }
    },
  );

  it('should refuse to write as the read-only role', async () => {
    await expect(grafana.query("DELETE FROM task_rollups WHERE project = 'web'")).rejects.toThrow(
      /read-only/,
    );
    await expect(grafana.query('SELECT count(*) FROM api_tokens')).rejects.toThrow(/permission denied/);
  });

  it('should sum cost per day and filter by project', async () => {
    const cost = (await run(panelSql('Cost per day by project'), ['web', 'api'])).rows;
    expect(cost.map((row) => [(row['time'] as Date).toISOString(), row['metric'], row['cost_usd']])).toEqual([
      ['2026-12-01T00:00:00.000Z', 'web', 5],
      ['2026-12-02T00:00:00.000Z', 'api', 0.5],
    ]);
    expect((await run(panelSql('Cost per day by project'), ['api'])).rows).toHaveLength(1);
  });

  it("should read the p95 as the upper bound of the histogram's bucket that holds it", async () => {
    const rows = (await run(panelSql('Run time p95 by profile, per day'), ['web'])).rows;
    // 8 runs in bucket 20 and 2 in bucket 30: the 95th percentile is in bucket 30, [16·2^(29/4), 16·2^(30/4)) ms.
    expect(rows).toEqual([
      {
        time: new Date('2026-12-01T00:00:00Z'),
        metric: 'coder',
        run_p95_seconds: Math.round(16 * 2 ** (30 / 4)) / 1000,
      },
    ]);
    const waits = (await run(panelSql('Queue wait p95 by profile, per day'), ['web'])).rows;
    expect(waits[0]?.['queue_wait_p95_seconds']).toBe(Math.round(16 * 2 ** (10 / 4)) / 1000);
  });

  it('should count failure reasons by week, and the installation’s alert firings with the project’s', async () => {
    const reasons = (await run(panelSql('Failure reasons per week'), ['web', 'api'])).rows;
    expect(reasons.map((row) => [(row['time'] as Date).toISOString(), row['metric'], row['tasks']])).toEqual([
      ['2026-11-30T00:00:00.000Z', 'cancelled', '1'],
      ['2026-11-30T00:00:00.000Z', 'timeout', '2'],
    ]);
    const firings = (await run(panelSql('Alert firings, newest first'), ['web'])).rows;
    expect(firings.map((row) => [row['project'], row['rule']])).toEqual([
      ['(installation)', 'Runners'],
      ['web', 'Failures'],
    ]);
  });

  it('should count review rounds of finished runs with a loop only', async () => {
    const rounds = (await run(panelSql('Workflow runs by rounds'), ['web'])).rows;
    expect(rounds).toEqual([
      { workflow: 'plan-do-review', rounds: 1, runs: '1', completed: '0', failed: '1', cancelled: '0' },
      { workflow: 'plan-do-review', rounds: 2, runs: '1', completed: '1', failed: '0', cancelled: '0' },
    ]);
    expect((await run(panelSql('Workflow runs by rounds'), ['api'])).rows).toEqual([]);
  });
});

function panelSql(title: string): string {
  const found = sqlPanels.find((panel) => panel.title === title);
  if (!found) throw new Error(`no PostgreSQL panel "${title}"`);
  return found.rawSql;
}
