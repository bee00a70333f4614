import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parse } from 'yaml';
import { COMPOSE_DIR, SERVICES, repoPath } from './repo';

// The dashboards: the chart's (helm/hangar/dashboards, shipped as ConfigMaps) and the compose
// trial's (deploy/compose/grafana/dashboards, provisioned from files).
export const CHART_DASHBOARDS = repoPath('helm', 'hangar', 'dashboards');
export const COMPOSE_DASHBOARDS = path.join(COMPOSE_DIR, 'grafana', 'dashboards');

export interface DashboardTarget {
  refId: string;
  datasource?: { type?: string; uid: string };
  expr?: string;
  rawSql?: string;
  format?: string;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: DashboardTarget[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  query?: string | { query: string };
  datasource?: { type?: string; uid: string };
  current?: { value?: string };
  includeAll?: boolean;
  allValue?: string;
}

export interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: TemplateVariable[] };
}

export interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  user?: string;
  isDefault?: boolean;
  jsonData?: Record<string, unknown>;
  secureJsonData?: Record<string, string>;
}

export function dashboardFiles(): string[] {
  return [CHART_DASHBOARDS, COMPOSE_DASHBOARDS].flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => path.join(dir, name)),
  );
}

export function readDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

export function composeDatasources(): Datasource[] {
  const file = path.join(COMPOSE_DIR, 'grafana', 'provisioning', 'datasources', 'datasources.yml');
  return (parse(readFileSync(file, 'utf8')) as { datasources: Datasource[] }).datasources;
}

// The datasource a panel or target names, as Grafana picks it: a uid, or `${variable}` of a
// datasource variable (its saved value, else the default datasource of its plugin type).
export function resolveDatasource(
  dashboard: Dashboard,
  ref: { type?: string; uid: string },
  provisioned: readonly Datasource[],
): Datasource | undefined {
  const variable = /^\$\{?([A-Za-z0-9_]+)\}?$/.exec(ref.uid)?.[1];
  if (variable === undefined) return provisioned.find((datasource) => datasource.uid === ref.uid);
  const template = dashboard.templating.list.find(
    (candidate) => candidate.name === variable && candidate.type === 'datasource',
  );
  if (!template) return undefined;
  const saved = template.current?.value;
  if (saved)
    return provisioned.find((datasource) => datasource.uid === saved && datasource.type === template.query);
  const ofType = provisioned.filter((datasource) => datasource.type === template.query);
  return ofType.find((datasource) => datasource.isDefault) ?? (ofType.length === 1 ? ofType[0] : undefined);
}

// Panels that query something (rows hold none).
export function queryPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.filter((panel) => panel.type !== 'row');
}

export interface ExportedMetric {
  type: string;
  labels: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

const quoted = (text: string) => [...text.matchAll(/'([a-z_]+)'/g)].map((match) => match[1] ?? '');

// A `labelNames` value: a literal list, a constant of the file (`labelNames: labels`), or a list
// spreading one (`[...labels, 'kind']`).
function labelNamesOf(expression: string, constants: Map<string, string[]>): string[] {
  const bare = /^([A-Za-z_]\w*)$/.exec(expression.trim())?.[1];
  if (bare !== undefined) return constants.get(bare) ?? [];
  const spreads = [...expression.matchAll(/\.\.\.([A-Za-z_]\w*)/g)].flatMap(
    (match) => constants.get(match[1] ?? '') ?? [],
  );
  return [...spreads, ...quoted(expression)];
}

// Every `hangar_*` metric the services and libs register, with its type and labels.
export function exportedMetrics(): Map<string, ExportedMetric> {
  const metrics = new Map<string, ExportedMetric>();
  const files = [
    ...SERVICES.map((service) => repoPath('services', service, 'src')),
    repoPath('libs'),
  ].flatMap((dir) => sourceFiles(dir));
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const constants = new Map(
      [...source.matchAll(/const ([A-Za-z_]\w*) = \[([^\]]*)\]/g)].map((match) => [
        match[1] ?? '',
        quoted(match[2] ?? ''),
      ]),
    );
    for (const match of source.matchAll(/new (Gauge|Counter|Histogram|Summary)\(\{([^}]*)\}/g)) {
      const body = match[2] ?? '';
      const name = /name: '([a-z_:]+)'/.exec(body)?.[1];
      if (!name) continue;
      const expression = /labelNames: (\[[^\]]*\]|[A-Za-z_]\w*)/.exec(body)?.[1] ?? '[]';
      metrics.set(name, {
        type: (match[1] ?? '').toLowerCase(),
        labels: labelNamesOf(expression, constants),
      });
    }
  }
  return metrics;
}

// prom-client's default metrics (process_*, nodejs_*), which every service registers.
export async function defaultMetrics(): Promise<Map<string, ExportedMetric>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new Map<string, ExportedMetric>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const labels = new Set(metric.values.flatMap((value) => Object.keys(value.labels)));
    metrics.set(metric.name, { type: String(metric.type), labels: [...labels] });
  }
  return metrics;
}

export interface MetricUse {
  name: string;
  // Labels a selector filters on, or an aggregation groups by, where the metric is named.
  labels: string[];
}

// The metrics a PromQL expression reads and the labels it uses on each: the matchers of its
// selector, and the `by (…)` labels of the aggregations around it (all of the expression's,
// which is stricter than PromQL: each metric of the expression must have them).
export function metricUses(expr: string): MetricUse[] {
  const grouped = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((match) =>
    (match[1] ?? '').split(',').map((label) => label.trim()),
  );
  return [...expr.matchAll(/\b((?:hangar|process|nodejs)_[a-z0-9_]+)(\{([^}]*)\})?/g)].map((match) => {
    const matchers = [...(match[3] ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map(
      (matcher) => matcher[1] ?? '',
    );
    return { name: match[1] ?? '', labels: [...new Set([...matchers, ...grouped])] };
  });
}

// Labels Prometheus adds to every series it scrapes (the chart's ServiceMonitor adds the
// Kubernetes ones), the `service` default label of every registry, and a histogram's `le`.
export const TARGET_LABELS = ['service', 'le', 'job', 'instance', 'namespace', 'pod'];
