import { render, RELEASE, valuesFile } from '../src/helm';
import { byKind, exportedMetricNames, find } from './support';

const fullname = RELEASE;
const minimal = [valuesFile('minimal-values.yaml')];

interface Dashboard {
  title: string;
  panels: { title: string; targets: { expr: string }[] }[];
}

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
        .flatMap((panel) => panel.targets.map((target) => target.expr))
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
      ]),
    );
  });
});
