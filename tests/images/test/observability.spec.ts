import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parse } from 'yaml';
import { bindMounts, builtFrom, loadCompose } from './support/compose';
import { COMPOSE_DIR, IMAGES, SERVICES, repoPath } from './support/repo';

const compose = loadCompose();

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  static_configs?: { targets: string[] }[];
}

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}

function readYaml<T>(...parts: string[]): T {
  return parse(readFileSync(path.join(COMPOSE_DIR, ...parts), 'utf8')) as T;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

// Every `hangar_*` metric the services and libs register, with its type and labels.
function exportedMetrics(): Map<string, { type: string; labels: string[] }> {
  const metrics = new Map<string, { type: string; labels: string[] }>();
  const files = [
    ...SERVICES.map((service) => repoPath('services', service, 'src')),
    repoPath('libs'),
  ].flatMap((dir) => sourceFiles(dir));
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/new (Gauge|Counter|Histogram|Summary)\(\{([^}]*)\}/g)) {
      const body = match[2] ?? '';
      const name = /name: '([a-z_:]+)'/.exec(body)?.[1];
      if (!name) continue;
      const labels = [...(/labelNames: \[([^\]]*)\]/.exec(body)?.[1] ?? '').matchAll(/'([a-z_]+)'/g)].map(
        (label) => label[1] ?? '',
      );
      metrics.set(name, { type: (match[1] ?? '').toLowerCase(), labels });
    }
  }
  return metrics;
}

async function defaultMetrics(): Promise<Map<string, { type: string; labels: string[] }>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new Map<string, { type: string; labels: string[] }>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const labels = new Set(metric.values.flatMap((value) => Object.keys(value.labels)));
    metrics.set(metric.name, { type: String(metric.type), labels: [...labels] });
  }
  return metrics;
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
  const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
    'grafana',
    'provisioning',
    'datasources',
    'datasources.yml',
  ).datasources;

  it('should provision Prometheus and Jaeger at their compose addresses', () => {
    const byType = new Map(datasources.map((datasource) => [datasource.type, new URL(datasource.url)]));
    expect(byType.get('prometheus')?.host).toBe('prometheus:9090');
    expect(byType.get('jaeger')?.host).toBe('jaeger:16686');
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['prometheus', 'jaeger']));
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
    const dashboards = mounts.find(
      (mount) => mount.source === path.join(COMPOSE_DIR, 'grafana', 'dashboards'),
    );
    expect(providers.map((provider) => provider.options.path)).toEqual([dashboards?.target]);
  });

  it('should chart only metrics the services export, by labels they have', async () => {
    const dashboard = JSON.parse(
      readFileSync(path.join(COMPOSE_DIR, 'grafana', 'dashboards', 'hangar.json'), 'utf8'),
    ) as {
      panels: Panel[];
    };
    const known = new Map([...(await defaultMetrics()), ...exportedMetrics()]);
    expect([...known.keys()].filter((name) => name.startsWith('hangar_')).length).toBeGreaterThan(10);
    const uids = new Set(datasources.map((datasource) => datasource.uid));
    const charted = new Set<string>();
    for (const panel of dashboard.panels) {
      expect({ panel: panel.title, uid: uids.has(panel.datasource.uid) }).toEqual({
        panel: panel.title,
        uid: true,
      });
      for (const target of panel.targets) {
        expect(uids.has(target.datasource.uid)).toBe(true);
        const names = [...target.expr.matchAll(/\b((?:hangar|process|nodejs)_[a-z0-9_]+)/g)].map(
          (match) => match[1] ?? '',
        );
        const labels = [...target.expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((match) =>
          (match[1] ?? '').split(',').map((label) => label.trim()),
        );
        for (const name of names) {
          const base = known.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
          const metric = known.get(base);
          expect({ panel: panel.title, name, exported: metric !== undefined }).toEqual({
            panel: panel.title,
            name,
            exported: true,
          });
          if (base !== name) expect({ name, type: metric?.type }).toEqual({ name, type: 'histogram' });
          charted.add(base);
          // `service` is every registry's default label; `le` a histogram's.
          for (const label of labels.filter(
            (candidate) => !['service', 'le', 'job', 'instance'].includes(candidate),
          )) {
            expect({ name, label, known: metric?.labels.includes(label) }).toEqual({
              name,
              label,
              known: true,
            });
          }
        }
      }
    }
    // The dashboard covers the runner, the queue and the realtime pool.
    for (const name of ['hangar_queue_depth', 'hangar_runner_tasks_running', 'hangar_ws_connections']) {
      expect(charted).toContain(name);
    }
  });
});
