import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@hangar/config';
import { readLocalCredentials } from './local-credentials';

export type Env = Record<string, string | undefined>;

export const PORT_VARIABLES = {
  gateway: 'GATEWAY_PORT',
  websocketPool: 'WEBSOCKET_POOL_PORT',
  orchestrator: 'ORCHESTRATOR_PORT',
  agentRunner: 'AGENT_RUNNER_PORT',
  metrics: 'METRICS_PORT',
  scriptedModel: 'SCRIPTED_MODEL_PORT',
  dashboard: 'DASHBOARD_PORT',
} as const;
export type PortName = keyof typeof PORT_VARIABLES;
export type StackPorts = Record<PortName, number>;

export const DEFAULT_PORTS: StackPorts = {
  gateway: 4005,
  websocketPool: 4006,
  orchestrator: 4007,
  agentRunner: 4008,
  metrics: 4009,
  scriptedModel: 4010,
  dashboard: 3000,
};

export class CliConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'CliConfigError';
  }
}

// Everything the CLI takes from its environment, read once at start; commands receive this
// and never touch process.env, so tests can hand them any environment.
export interface CliEnv {
  apiUrl: string;
  wsUrl: string;
  databaseUrl: string;
  redisUrl: string;
  ports: StackPorts;
  hasAnthropicKey: boolean;
  scriptedModelUrl: string | undefined;
  repoRoot: string;
  hangarHome: string;
  // The API token requests carry: HANGAR_TOKEN, else the one `hangar up` made for this machine.
  token: string | undefined;
  searchPath: string;
  isRoot: boolean;
  color: { stdout: boolean; stderr: boolean };
  // stdout is a terminal a live view may draw over (not a pipe, a file or TERM=dumb).
  interactive: boolean;
  // Passed on to the processes `hangar up` starts, under the variables it sets itself.
  inherited: Env;
}

interface StreamLike {
  isTTY?: boolean;
}

export function readCliEnv(
  env: Env,
  streams: { stdout: StreamLike; stderr: StreamLike } = { stdout: process.stdout, stderr: process.stderr },
): CliEnv {
  const problems: string[] = [];
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    if (!isUrlWithProtocol(raw, protocols)) {
      problems.push(`${name}: must be a ${protocols.join(' or ')}// URL — got "${raw}"`);
      return fallback;
    }
    return raw;
  };
  const ports = {} as StackPorts;
  for (const [name, variable] of Object.entries(PORT_VARIABLES) as [PortName, string][]) {
    const raw = nonEmpty(env[variable]);
    const parsed = raw === undefined ? DEFAULT_PORTS[name] : parsePort(raw);
    if (parsed === undefined) problems.push(`${variable}: must be a TCP port (1-65535) — got "${raw}"`);
    ports[name] = parsed ?? DEFAULT_PORTS[name];
  }
  const repoRoot = findRepoRoot(__dirname);
  const hangarHome = path.resolve(nonEmpty(env.HANGAR_HOME) ?? path.join(repoRoot, '.hangar'));
  const config: CliEnv = {
    // Without an explicit URL, the CLI talks to the ports `hangar up` would use with this environment.
    apiUrl: url('HANGAR_API_URL', `http://127.0.0.1:${ports.gateway}`, ['http:', 'https:']),
    wsUrl: url('HANGAR_WS_URL', `http://127.0.0.1:${ports.websocketPool}`, [
      'http:',
      'https:',
      'ws:',
      'wss:',
    ]),
    databaseUrl: url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgresql:', 'postgres:']),
    redisUrl: url('REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
    ports,
    hasAnthropicKey: nonEmpty(env.ANTHROPIC_API_KEY) !== undefined,
    scriptedModelUrl: nonEmpty(env.SCRIPTED_MODEL_URL),
    repoRoot,
    hangarHome,
    token:
      nonEmpty(env.HANGAR_TOKEN) ??
      nonEmpty(env.HANGAR_ADMIN_TOKEN) ??
      readLocalCredentials(hangarHome)?.token,
    searchPath: env.PATH ?? '',
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    color: { stdout: wantsColor(streams.stdout, env), stderr: wantsColor(streams.stderr, env) },
    interactive: streams.stdout.isTTY === true && env.TERM !== 'dumb',
    inherited: { ...env },
  };
  if (problems.length > 0) throw new CliConfigError(problems);
  return config;
}

export function parsePort(raw: string): number | undefined {
  if (!/^\d{1,5}$/.test(raw.trim())) return undefined;
  const value = Number(raw);
  return value >= 1 && value <= 65535 ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isUrlWithProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

// https://no-color.org and the FORCE_COLOR convention most Node tools follow.
function wantsColor(stream: StreamLike, env: Env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

// dist/config and src/config both sit inside apps/cli; the workspace file marks the root.
export function findRepoRoot(from: string): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(from, '..', '..', '..', '..');
    dir = parent;
  }
}
