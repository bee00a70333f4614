import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries } from './binaries';
import type { KubeObject } from './validate';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const CHART_DIR = path.join(REPO_ROOT, 'helm', 'hangar');
export const KUBE_VERSION = '1.34.0';
export const RELEASE = 'hangar';
export const NAMESPACE = 'hangar';

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function helm(args: string[]): Promise<HelmResult> {
  const { helm: binary } = await ensureBinaries();
  return new Promise((resolve) => {
    execFile(
      binary,
      args,
      // No kubeconfig, no repositories: helm must work offline and never reach a cluster.
      {
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KUBECONFIG: '/dev/null',
          HELM_CACHE_HOME: path.join(REPO_ROOT, 'tests', 'helm', 'node_modules', '.cache', 'helm'),
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function valuesFile(name: string): string {
  return path.join(CHART_DIR, 'ci', name);
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
  apiVersions?: string[];
}

export function templateArgs(options: RenderOptions = {}): string[] {
  return [
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    ...(options.valuesFiles ?? []).flatMap((file) => ['--values', file]),
    ...(options.set ?? []).flatMap((value) => ['--set', value]),
    ...(options.apiVersions ?? []).flatMap((version) => ['--api-versions', version]),
  ];
}

// `helm template`, parsed: every non-empty document, in order. Throws with helm's stderr when
// rendering fails.
export async function render(options: RenderOptions = {}): Promise<KubeObject[]> {
  const result = await helm(templateArgs(options));
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}): ${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`invalid YAML from helm: ${document.errors[0]?.message}`);
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) objects.push(value as KubeObject);
  }
  return objects;
}
