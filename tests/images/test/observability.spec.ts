import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { bindMounts, builtFrom, loadCompose } from './support/compose';
import {
  CHART_DASHBOARDS,
  COMPOSE_DASHBOARDS,
  TARGET_LABELS,
  composeDatasources,
  dashboardFiles,
  defaultMetrics,
  exportedMetrics,
  metricUses,
  queryPanels,
  readDashboard,
  resolveDatasource,
} from './support/grafana';
import { COMPOSE_DIR, IMAGES, repoPath } from './support/repo';

const compose = loadCompose();

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  static_configs?: { targets: string[] }[];
}

function readYaml<T>(...parts: string[]): T {
  return parse(readFileSync(path.join(COMPOSE_DIR, ...parts), 'utf8')) as T;
}

describe('deploy/compose/prometheus/prometheus.yml', () => {
  const config = readYaml<{ scrape_configs: ScrapeConfig[] }>('prometheus', 'prometheus.yml');

  it('should be the file the prometheus service reads', () => {
    const prometheus = compose.services['prometheus']!;
    const mount = bindMounts(prometheus).find((candidate) => candidate.source.endsWith('prometheus.yml'));
    expect(prometheus.command).toContain(`--config.file=${mount?.target}`);
  });

  it.each(IMAGES.filter((image) => image.component !== 'dashboard'))(
    "should scrape $component's /metrics at its real port",
    (image) => {
      const hosts = Object.entries(compose.services)
        .filter(([, service]) => builtFrom(service) === image.dir && service.command === undefined)
        .map(([name]) => name);
      expect(hosts).toHaveLength(1);
      const targets = config.scrape_configs.flatMap((scrape) => [
        ...(scrape.dns_sd_configs ?? []).flatMap((sd) =>
          sd.names.map((name) => `${scrape.metrics_path}|${name}:${sd.port}`),
        ),
        ...(scrape.static_configs ?? []).flatMap((group) =>
          group.targets.map((target) => `${scrape.metrics_path}|${target}`),
        ),
      ]);
      expect(targets).toContain(`/metrics|${hosts[0]}:${image.port}`);
    },
  );

  it('should only name hosts compose defines', () => {
    for (const scrape of config.scrape_configs) {
      for (const sd of scrape.dns_sd_configs ?? [])
        for (const name of sd.names) expect(Object.keys(compose.services)).toContain(name);
    }
    // The route the services serve (libs/observability's health module).
    expect(readFileSync(repoPath('libs/observability/src/health.module.ts'), 'utf8')).toContain(
      "@Get('metrics')",
    );
  });
});

describe('deploy/compose/grafana', () => {
  const grafana = compose.services['grafana']!;
  const datasources = composeDatasources();

  it('should provision Prometheus and Jaeger at their compose addresses', () => {
    const byType = new Map(datasources.map((datasource) => [datasource.type, new URL(datasource.url)]));
    expect(byType.get('prometheus')?.host).toBe('prometheus:9090');
    expect(byType.get('jaeger')?.host).toBe('jaeger:16686');
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['prometheus', 'jaeger']));
  });

  it('should provision PostgreSQL as the read-only role the compose trial makes after migrating', () => {
    const postgres = datasources.find((datasource) => datasource.uid === 'hangar-postgres');
    expect(postgres).toMatchObject({
      type: 'grafana-postgresql-datasource',
      url: 'postgres:5432',
      user: 'hangar_grafana',
      jsonData: { database: compose.services['postgres']?.environment?.['POSTGRES_DB'] },
      secureJsonData: { password: '$GRAFANA_DB_PASSWORD' },
    });
    // Grafana expands $GRAFANA_DB_PASSWORD from its environment; the role gets the same one.
    expect(grafana.environment?.['GRAFANA_DB_PASSWORD']).toMatch(/^\$\{GRAFANA_DB_PASSWORD:\?/);
    const reader = compose.services['grafana-reader']!;
    expect(reader.command).toContain(`password=${grafana.environment?.['GRAFANA_DB_PASSWORD']}`);
    const script = bindMounts(reader).find((mount) => mount.source.endsWith('reader-role.sql'));
    expect(reader.command).toContain(script?.target);
    expect(reader.depends_on?.['migrate']?.condition).toBe('service_completed_successfully');
    expect(grafana.depends_on?.['grafana-reader']?.condition).toBe('service_completed_successfully');
    expect(reader.environment?.['PGHOST']).toBe('postgres');
    expect(reader.environment?.['PGDATABASE']).toBe(
      compose.services['postgres']?.environment?.['POSTGRES_DB'],
    );
  });

  it('should mount the provisioning folder and load dashboards from where they are mounted', () => {
    const mounts = bindMounts(grafana);
    const provisioning = mounts.find(
      (mount) => mount.source === path.join(COMPOSE_DIR, 'grafana', 'provisioning'),
    );
    expect(provisioning?.target).toBe('/etc/grafana/provisioning');
    const providers = readYaml<{ providers: { options: { path: string } }[] }>(
      'grafana',
      'provisioning',
      'dashboards',
      'dashboards.yml',
    ).providers;
    const dashboards = mounts.find((mount) => mount.source === COMPOSE_DASHBOARDS);
    expect(providers.map((provider) => provider.options.path)).toEqual([dashboards?.target]);
  });

  it("should ship the chart's team leads' dashboard unchanged", () => {
    expect(readFileSync(path.join(COMPOSE_DASHBOARDS, 'hangar-usage.json'), 'utf8')).toBe(
      readFileSync(path.join(CHART_DASHBOARDS, 'hangar-usage.json'), 'utf8'),
    );
  });
});

describe.each(
  dashboardFiles().map((file) => ({ file: path.relative(repoPath(), file), dashboard: readDashboard(file) })),
)('$file', ({ dashboard }) => {
  const datasources = composeDatasources();
  const panels = queryPanels(dashboard);

  it('should have what Grafana needs: a title, a uid, a schema version, panels on the grid', () => {
    expect(dashboard.title).toEqual(expect.any(String));
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(panels.length).toBeGreaterThan(5);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect({
        panel: panel.title,
        fits: [x, y, w, h].every(Number.isInteger) && x >= 0 && w > 0 && h > 0 && x + w <= 24,
      }).toEqual({ panel: panel.title, fits: true });
      for (let row = y; row < y + h; row += 1)
        for (let column = x; column < x + w; column += 1) {
          expect({ panel: panel.title, overlaps: cells.get(`${column},${row}`) }).toEqual({
            panel: panel.title,
            overlaps: undefined,
          });
          cells.set(`${column},${row}`, panel.title);
        }
    }
  });

  it('should name only datasources the provisioning defines, of the type each query is for', () => {
    for (const panel of panels) {
      const own = panel.datasource && resolveDatasource(dashboard, panel.datasource, datasources);
      expect({ panel: panel.title, datasource: own?.uid }).toEqual({
        panel: panel.title,
        datasource: expect.any(String) as string,
      });
      expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const datasource = resolveDatasource(dashboard, target.datasource ?? panel.datasource!, datasources);
        const type = target.expr !== undefined ? 'prometheus' : 'grafana-postgresql-datasource';
        expect({ panel: panel.title, target: target.refId, type: datasource?.type }).toEqual({
          panel: panel.title,
          target: target.refId,
          type,
        });
        if (type === 'grafana-postgresql-datasource') expect(target.rawSql).toEqual(expect.any(String));
      }
    }
    for (const variable of dashboard.templating.list.filter((candidate) => candidate.datasource))
      expect({
        variable: variable.name,
        datasource: resolveDatasource(dashboard, variable.datasource!, datasources)?.uid,
      }).toEqual({ variable: variable.name, datasource: expect.any(String) as string });
  });

  it('should chart only metrics the services export, by labels they have', async () => {
    const known = new Map([...(await defaultMetrics()), ...exportedMetrics()]);
    expect([...known.keys()].filter((name) => name.startsWith('hangar_')).length).toBeGreaterThan(10);
    const expressions = [
      ...panels.flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) =>
          target.expr === undefined ? [] : [{ panel: panel.title, expr: target.expr }],
        ),
      ),
      ...dashboard.templating.list.flatMap((variable) =>
        variable.datasource?.type === 'prometheus' && typeof variable.query === 'object'
          ? [{ panel: `$${variable.name}`, expr: variable.query.query }]
          : [],
      ),
    ];
    expect(expressions.length).toBeGreaterThan(0);
    for (const { panel, expr } of expressions) {
      for (const use of metricUses(expr)) {
        const base = known.has(use.name) ? use.name : use.name.replace(/_(bucket|sum|count)$/, '');
        const metric = known.get(base);
        expect({ panel, name: use.name, exported: metric !== undefined }).toEqual({
          panel,
          name: use.name,
          exported: true,
        });
        if (base !== use.name)
          expect({ name: use.name, type: metric?.type }).toEqual({ name: use.name, type: 'histogram' });
        for (const label of use.labels.filter((candidate) => !TARGET_LABELS.includes(candidate)))
          expect({ panel, name: base, label, known: metric?.labels.includes(label) }).toEqual({
            panel,
            name: base,
            label,
            known: true,
          });
      }
    }
  });
});

describe('what the dashboards cover', () => {
  const charted = (file: string) =>
    new Set(
      queryPanels(readDashboard(file))
        .flatMap((panel) => panel.targets ?? [])
        .flatMap((target) => metricUses(target.expr ?? ''))
        .map((use) => use.name.replace(/_(bucket|sum|count)$/, '')),
    );

  it.each([
    path.join(COMPOSE_DASHBOARDS, 'hangar.json'),
    path.join(CHART_DASHBOARDS, 'hangar-overview.json'),
  ])(
    'should show operators the runners, queue, realtime pool, metrics ingest, alerts and model calls in %s',
    (file) => {
      expect([...charted(file)]).toEqual(
        expect.arrayContaining([
          'hangar_queue_depth',
          'hangar_runner_tasks_running',
          'hangar_ws_connections',
          'hangar_metrics_records_total',
          'hangar_metrics_records_backlog',
          'hangar_alert_rules_firing',
          'hangar_alert_notifications_total',
          'hangar_model_calls_total',
          'hangar_model_call_duration_seconds',
          'hangar_model_credential_rests_total',
        ]),
      );
    },
  );

  it('should show team leads cost, tokens, outcomes, waits, tools, anomalies and alerts, filtered by project', () => {
    const usage = readDashboard(path.join(CHART_DASHBOARDS, 'hangar-usage.json'));
    expect([...charted(path.join(CHART_DASHBOARDS, 'hangar-usage.json'))].sort()).toEqual([
      'hangar_alert_firings_total',
      'hangar_alert_rules_firing',
      'hangar_anomalies_total',
      'hangar_task_cost_usd_total',
      'hangar_task_queue_wait_seconds',
      'hangar_task_run_seconds',
      'hangar_task_tokens_total',
      'hangar_task_tool_calls_total',
      'hangar_tasks_ended_total',
    ]);
    const project = usage.templating.list.find((variable) => variable.name === 'project');
    expect(project).toMatchObject({
      type: 'query',
      includeAll: true,
      datasource: { type: 'grafana-postgresql-datasource' },
    });
    for (const target of queryPanels(usage).flatMap((panel) => panel.targets ?? [])) {
      const projectLabelled = metricUses(target.expr ?? '').some((use) => use.name.startsWith('hangar_task'));
      if (target.rawSql !== undefined || projectLabelled)
        expect(target.rawSql ?? target.expr).toContain('$project');
    }
  });
});
