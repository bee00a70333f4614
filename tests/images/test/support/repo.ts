import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const COMPOSE_DIR = path.join(REPO_ROOT, 'deploy', 'compose');

export function repoPath(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}

export function readText(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

interface PackageJson {
  name: string;
  packageManager?: string;
  scripts?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
}

export function readPackage(dir: string): PackageJson {
  return JSON.parse(readText(dir, 'package.json')) as PackageJson;
}

export interface ImageSpec {
  // Compose/Helm component name: the image is hangar-<component>.
  component: string;
  dir: string;
  packageName: string;
  portVariable: string;
  port: number;
  healthPath: string;
}

// The port a service listens on, from the one `port(<default>, …)` in its zod env schema.
export function servicePort(service: string): { variable: string; port: number } {
  const source = readText('services', service, 'src', 'config.ts');
  const matches = [...source.matchAll(/(\w+_PORT): port\((\d+),/g)];
  if (matches.length !== 1)
    throw new Error(`services/${service}/src/config.ts: expected one port(), found ${matches.length}`);
  const [, variable = '', port = ''] = matches[0] ?? [];
  return { variable, port: Number(port) };
}

// `next start` listens on $PORT, 3000 unless set; the dashboard's own start script says which.
function dashboardPort(): number {
  const start = readPackage('apps/dashboard').scripts?.['start'] ?? '';
  const match = /\$\{DASHBOARD_PORT:-(\d+)\}/.exec(start);
  if (!match) throw new Error(`apps/dashboard start script names no default port: ${start}`);
  return Number(match[1]);
}

export const SERVICES = ['gateway', 'websocket-pool', 'orchestrator', 'agent-runner', 'metrics'] as const;

export const IMAGES: ImageSpec[] = [
  ...SERVICES.map((service): ImageSpec => {
    const { variable, port } = servicePort(service);
    return {
      component: service,
      dir: `services/${service}`,
      packageName: readPackage(`services/${service}`).name,
      portVariable: variable,
      port,
      healthPath: '/health/ready',
    };
  }),
  {
    component: 'dashboard',
    dir: 'apps/dashboard',
    packageName: readPackage('apps/dashboard').name,
    portVariable: 'PORT',
    port: dashboardPort(),
    // No health route in the placeholder app: its page is the check.
    healthPath: '/',
  },
];

// Workspace packages a package depends on at run time (dependencies, transitively).
export function runtimeWorkspaceDependencies(dir: string): Set<string> {
  const byName = new Map<string, string>();
  for (const group of ['services', 'apps', 'libs']) {
    for (const entry of readdirSync(repoPath(group))) {
      const packageDir = `${group}/${entry}`;
      if (existsSync(repoPath(packageDir, 'package.json')))
        byName.set(readPackage(packageDir).name, packageDir);
    }
  }
  const seen = new Set<string>();
  const visit = (packageDir: string): void => {
    for (const [name, range] of Object.entries(readPackage(packageDir).dependencies ?? {})) {
      const target = byName.get(name);
      if (!range.startsWith('workspace:') || !target || seen.has(name)) continue;
      seen.add(name);
      visit(target);
    }
  };
  visit(dir);
  return seen;
}

export function lockfileImporterVersion(importer: string, dependency: string): string {
  const lockfile = parse(readText('pnpm-lock.yaml')) as {
    importers: Record<string, { devDependencies?: Record<string, { version: string }> }>;
  };
  const version = lockfile.importers[importer]?.devDependencies?.[dependency]?.version;
  if (!version) throw new Error(`pnpm-lock.yaml: no ${dependency} in importer ${importer}`);
  return version;
}

// .dockerignore semantics (Go filepath.Match per path segment, `**` for any depth, a pattern
// also excluding everything below a match; `!` re-includes). Enough for the patterns we use.
export function dockerignored(relativePath: string, patterns: string[]): boolean {
  let ignored = false;
  const segments = relativePath.split('/');
  const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
    const regex = new RegExp(
      '^' +
        pattern
          .split('/')
          .map((segment) =>
            segment === '**'
              ? '.*'
              : segment
                  .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                  .replace(/\*/g, '[^/]*')
                  .replace(/\?/g, '[^/]'),
          )
          .join('/')
          .replace(/\.\*\//g, '(?:.*/)?') +
        '$',
    );
    if (candidates.some((candidate) => regex.test(candidate))) ignored = !negated;
  }
  return ignored;
}

export function dockerignorePatterns(): string[] {
  return readText('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}
