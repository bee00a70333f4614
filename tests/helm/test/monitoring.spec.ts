import { parse } from 'yaml';
import { helm, render, RELEASE, templateArgs, valuesFile } from '../src/helm';
import type { KubeObject } from '../src/validate';
import { byKind, exportedMetricNames, find } from './support';

const fullname = RELEASE;
const minimal = [valuesFile('minimal-values.yaml')];

interface Dashboard {
  title: string;
  uid: string;
  templating: { list: { name: string; type: string; query?: unknown; current?: { value?: string } }[] };
  panels: { title: string; datasource?: { type: string; uid: string }; targets?: { expr?: string }[] }[];
}

interface ProvisionedDatasource {
  uid: string;
  type: string;
  url: string;
  user: string;
  jsonData: { database: string; sslmode: string };
  secureJsonData: { password: string };
}

const dashboardOf = (configMap: KubeObject, file: string) =>
  JSON.parse((configMap.data as Record<string, string>)[file]!) as Dashboard;

const datasourceOf = (secret: KubeObject) =>
  (
    parse((secret.stringData as Record<string, string>)['hangar-datasource.yaml']!) as {
      datasources: ProvisionedDatasource[];
    }
  ).datasources;

describe('monitoring', () => {
  it('should render no ServiceMonitor or PrometheusRule when the cluster lacks prometheus-operator', async () => {
    const objects = await render({ valuesFiles: minimal });
    expect(byKind(objects, 'ServiceMonitor')).toEqual([]);
    expect(byKind(objects, 'PrometheusRule')).toEqual([]);
  });

  it('should scrape /metrics of every service but the dashboard when monitoring.coreos.com/v1 is served', async () => {
    const objects = await render({ valuesFiles: minimal, apiVersions: ['monitoring.coreos.com/v1'] });
    const monitor = find(objects, 'ServiceMonitor', fullname);
    const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: unknown[] };
    expect(spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    const selected = byKind(objects, 'Service')
      .filter((service) =>
        Object.entries(spec.selector.matchLabels).every(
          ([key, value]) => service.metadata.labels?.[key] === value,
        ),
      )
      .map((service) => service.metadata.name)
      .sort();
    expect(selected).toEqual(
      ['agent-runner', 'gateway', 'metrics', 'orchestrator', 'websocket-pool'].map(
        (name) => `${fullname}-${name}`,
      ),
    );
    const rules = find(objects, 'PrometheusRule', fullname).spec as {
      groups: { rules: { alert: string }[] }[];
    };
    expect(rules.groups[0]!.rules.map((rule) => rule.alert)).toEqual([
      'HangarServiceDown',
      'HangarQueueBacklog',
      'HangarRunnerSlotsFull',
      'HangarTaskJobsAtCap',
      'HangarTaskJobsFailing',
      'HangarTaskFailureRate',
      'HangarDeliveryLatencyHigh',
    ]);
  });

  it('should ship a Grafana dashboard ConfigMap that charts only metrics the services export', async () => {
    const objects = await render({ valuesFiles: minimal });
    const configMap = find(objects, 'ConfigMap', `${fullname}-dashboard-hangar-overview`);
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const dashboard = JSON.parse(
      (configMap.data as Record<string, string>)['hangar-overview.json']!,
    ) as Dashboard;
    expect(dashboard.panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining([
        'Tasks by status',
        'Queue depth',
        'WebSocket connections by state',
        'Event delivery latency',
        'Task Jobs (kubernetes executor)',
        'Task attempts ended by the cluster',
      ]),
    );
    const exported = exportedMetricNames();
    expect(exported.size).toBeGreaterThan(5);
    const used = new Set(
      dashboard.panels
        .flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''))
        .flatMap((expr) =>
          [...expr.matchAll(/hangar_[a-z_]+/g)].map((match) => match[0].replace(/_(bucket|sum|count)$/, '')),
        ),
    );
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    expect(used).toEqual(
      new Set([
        'hangar_queue_depth',
        'hangar_runner_tasks_running',
        'hangar_runner_slots',
        'hangar_runner_tasks_finished_total',
        'hangar_ws_connections',
        'hangar_ws_delivery_latency_seconds',
        'hangar_ws_events_out_total',
        'hangar_ws_resyncs_total',
        'hangar_ws_refused_total',
        'hangar_runner_task_duration_seconds',
        'hangar_runner_events_total',
        'hangar_runner_jobs_running',
        'hangar_runner_jobs_max',
        'hangar_runner_job_failures_total',
        'hangar_metrics_records_total',
        'hangar_metrics_samples_reconciled_total',
        'hangar_metrics_records_backlog',
        'hangar_alert_rules_firing',
        'hangar_alert_firings_total',
        'hangar_alert_notifications_total',
        'hangar_model_calls_total',
        'hangar_model_call_duration_seconds',
        'hangar_model_credential_rests_total',
      ]),
    );
  });

  it("should ship the team leads' dashboard and no datasource by default", async () => {
    const objects = await render({ valuesFiles: minimal });
    const configMap = find(objects, 'ConfigMap', `${fullname}-dashboard-hangar-usage`);
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(dashboardOf(configMap, 'hangar-usage.json')).toMatchObject({
      title: 'Hangar — cost and quality',
      uid: 'hangar-usage',
    });
    expect(byKind(objects, 'Secret').map((secret) => secret.metadata.name)).not.toContain(
      `${fullname}-grafana-datasource`,
    );
  });

  it('should render no dashboards when they are off', async () => {
    const objects = await render({
      valuesFiles: minimal,
      set: ['monitoring.grafanaDashboards.enabled=false'],
    });
    expect(
      byKind(objects, 'ConfigMap').filter((configMap) => configMap.metadata.name.includes('-dashboard-')),
    ).toEqual([]);
  });

  it("should point the datasource at the in-chart PostgreSQL with its password, under the dashboards' uid", async () => {
    const objects = await render({
      valuesFiles: minimal,
      set: ['monitoring.grafanaDatasource.enabled=true'],
    });
    const secret = find(objects, 'Secret', `${fullname}-grafana-datasource`);
    expect(secret.metadata.labels).toMatchObject({ grafana_datasource: '1' });
    const password = (find(objects, 'Secret', `${fullname}-postgresql`).stringData as Record<string, string>)
      .POSTGRES_PASSWORD;
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(datasourceOf(secret)).toEqual([
      expect.objectContaining({
        uid: 'hangar-postgres',
        type: 'grafana-postgresql-datasource',
        url: `${fullname}-postgresql.hangar.svc:5432`,
        user: 'hangar',
        jsonData: expect.objectContaining({ database: 'hangar', sslmode: 'disable' }) as object,
        secureJsonData: { password },
      }),
    ]);
    // Every PostgreSQL panel and variable of the dashboards resolves to that uid.
    const usage = dashboardOf(
      find(objects, 'ConfigMap', `${fullname}-dashboard-hangar-usage`),
      'hangar-usage.json',
    );
    const variable = usage.templating.list.find(
      (candidate) => candidate.query === 'grafana-postgresql-datasource',
    );
    expect(variable?.current?.value).toBe('hangar-postgres');
    const postgresPanels = usage.panels.filter(
      (panel) => panel.datasource?.type === 'grafana-postgresql-datasource',
    );
    expect(postgresPanels.length).toBeGreaterThan(5);
    for (const panel of postgresPanels) expect(panel.datasource?.uid).toBe(`\${${variable?.name}}`);
  });

  it('should point the datasource at an external PostgreSQL, escaping $ from Grafana', async () => {
    const objects = await render({
      valuesFiles: [valuesFile('external-databases-values.yaml')],
      set: [
        'monitoring.grafanaDatasource.enabled=true',
        'monitoring.grafanaDatasource.host=db.internal:5432',
        'monitoring.grafanaDatasource.database=hangar',
        'monitoring.grafanaDatasource.user=grafana_reader',
        'monitoring.grafanaDatasource.password=pa$$word',
      ],
    });
    expect(datasourceOf(find(objects, 'Secret', `${fullname}-grafana-datasource`))).toEqual([
      expect.objectContaining({
        url: 'db.internal:5432',
        user: 'grafana_reader',
        jsonData: expect.objectContaining({ database: 'hangar', sslmode: 'require' }) as object,
        secureJsonData: { password: 'pa$$$$word' },
      }),
    ]);
  });

  it('should refuse the datasource with no PostgreSQL to point at', async () => {
    const result = await helm(
      templateArgs({
        valuesFiles: [valuesFile('external-databases-values.yaml')],
        set: ['monitoring.grafanaDatasource.enabled=true'],
      }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('monitoring.grafanaDatasource needs the in-chart PostgreSQL');
  });
});
