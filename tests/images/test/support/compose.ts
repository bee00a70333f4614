import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { COMPOSE_DIR } from './repo';

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  env_file?: string | string[];
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  security_opt?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const COMPOSE_FILE = path.join(COMPOSE_DIR, 'docker-compose.yml');

// As docker compose reads it: YAML 1.1 merge keys (`<<: *anchor`) resolved.
export function loadCompose(): ComposeFile {
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
}

export interface BindMount {
  // Absolute path on the host.
  source: string;
  target: string;
}

export function bindMounts(service: ComposeService): BindMount[] {
  return (service.volumes ?? [])
    .filter((volume) => volume.startsWith('.') || volume.startsWith('/'))
    .map((volume) => {
      const [source = '', target = ''] = volume.split(':');
      return { source: path.resolve(COMPOSE_DIR, source), target };
    });
}

export function namedVolumes(service: ComposeService): { name: string; target: string }[] {
  return (service.volumes ?? [])
    .filter((volume) => !volume.startsWith('.') && !volume.startsWith('/'))
    .map((volume) => {
      const [name = '', target = ''] = volume.split(':');
      return { name, target };
    });
}

// The repository folder a service's image is built from (services/gateway …), if any.
export function builtFrom(service: ComposeService): string | undefined {
  if (!service.build?.dockerfile) return undefined;
  return path.posix.dirname(service.build.dockerfile);
}

// `.env` lines that set a variable (commented examples do not count).
export function envExampleVariables(): Map<string, string> {
  const variables = new Map<string, string>();
  for (const line of readFileSync(path.join(COMPOSE_DIR, '.env.example'), 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) variables.set(match[1] ?? '', match[2] ?? '');
  }
  return variables;
}
