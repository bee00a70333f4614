import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/helm';
import type { KubeObject } from '../src/validate';

export const VALUES_FILES = [
  'minimal-values.yaml',
  'production-values.yaml',
  'kubernetes-gvisor-values.yaml',
  'external-databases-values.yaml',
];

// The services' ports, as docs/configuration.md gives them.
export const PORTS: Record<string, number> = {
  gateway: 4005,
  'websocket-pool': 4006,
  orchestrator: 4007,
  'agent-runner': 4008,
  metrics: 4009,
  dashboard: 3000,
};

export interface Container {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  command?: string[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  volumes?: { name: string; emptyDir?: object }[];
}

export function byKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) {
    const names = byKind(objects, kind).map((object) => object.metadata.name);
    throw new Error(`no ${kind} named ${name}; there are: ${names.join(', ') || 'none'}`);
  }
  return found;
}

// Every pod template of a workload (Deployment, StatefulSet, Job), with the object's name.
export function podSpecs(objects: KubeObject[]): { owner: string; spec: PodSpec }[] {
  return objects
    .filter((object) => ['Deployment', 'StatefulSet', 'Job'].includes(object.kind))
    .map((object) => ({
      owner: `${object.kind}/${object.metadata.name}`,
      spec: (object.spec as { template: { spec: PodSpec } }).template.spec,
    }));
}

export function containerOf(object: KubeObject): Container {
  const spec = (object.spec as { template: { spec: PodSpec } }).template.spec;
  const container = spec.containers[0];
  if (!container) throw new Error(`${object.metadata.name} has no container`);
  return container;
}

// The environment a container gets from its ConfigMaps and plain values, by name.
export function plainEnv(objects: KubeObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef) continue;
    Object.assign(env, find(objects, 'ConfigMap', source.configMapRef.name).data as Record<string, string>);
  }
  for (const variable of container.env ?? [])
    if (variable.value !== undefined) env[variable.name] = variable.value;
  return env;
}

// `location <path> { … proxy_pass http://hangar_<service>; … }` of deploy/nginx/hangar.conf.
export function nginxLocations(): { path: string; service: string }[] {
  const conf = readFileSync(path.join(REPO_ROOT, 'deploy', 'nginx', 'hangar.conf'), 'utf8');
  return [...conf.matchAll(/location\s+(\S+)\s*\{[^}]*?proxy_pass\s+http:\/\/hangar_(\w+);/g)].map(
    (match) => ({
      path: match[1]!,
      service: match[2]!.replaceAll('_', '-'),
    }),
  );
}

// Names of the Prometheus metrics Hangar's code registers (`name: 'hangar_…'`).
export function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (entry === 'node_modules' || entry === 'dist') continue;
      if (statSync(full).isDirectory()) visit(full);
      else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts')) {
        for (const match of readFileSync(full, 'utf8').matchAll(/name:\s*'(hangar_[a-z_]+)'/g))
          names.add(match[1]!);
      }
    }
  };
  for (const root of ['services', 'libs']) {
    for (const pkg of readdirSync(path.join(REPO_ROOT, root))) {
      const src = path.join(REPO_ROOT, root, pkg, 'src');
      try {
        if (statSync(src).isDirectory()) visit(src);
      } catch {
        // a package without src
      }
    }
  }
  return names;
}
