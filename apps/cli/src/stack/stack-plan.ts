import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_PROCESS_ENV } from '@hangar/config';
import { type CliEnv, type Env, PORT_VARIABLES, type PortName, type StackPorts } from '../config/cli-env';
import type { ProcessSpec } from './managed-process';
import type { HttpReadiness } from './readiness';

export const SERVICE_NAMES = [
  'gateway',
  'websocket-pool',
  'orchestrator',
  'agent-runner',
  'metrics',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const SERVICE_PORTS: Record<ServiceName, PortName> = {
  gateway: 'gateway',
  'websocket-pool': 'websocketPool',
  orchestrator: 'orchestrator',
  'agent-runner': 'agentRunner',
  metrics: 'metrics',
};

// Shipped with libs/agents; shown when the scenario files cannot be listed.
const KNOWN_SCENARIOS = ['reply', 'write-file', 'bash', 'long-stream', 'rate-limited', 'slow', 'fail'];

export interface PlannedProcess extends ProcessSpec {
  // A file that must exist before starting: the build output.
  entry: string;
  port: number;
  portName: PortName;
  readiness: HttpReadiness;
  url: string;
}

export type ModelMode = { kind: 'scripted'; url: string; startsHere: boolean } | { kind: 'anthropic' };

// Who can get in: the first administrator and an admin token, from the caller's environment
// (HANGAR_ADMIN_*) or made for this machine (.hangar/credentials.json).
export interface StackAccess {
  email: string;
  // Undefined when it came from the caller's own HANGAR_ADMIN_PASSWORD: not shown.
  password: string | undefined;
  token: string;
  file: string | undefined;
}

export interface StackPlan {
  scriptedModel: PlannedProcess | undefined;
  services: PlannedProcess[];
  dashboard: PlannedProcess | undefined;
  model: ModelMode;
  scenarios: string[];
  notices: string[];
  access: StackAccess | undefined;
}

export interface UpOptions {
  ports: StackPorts;
  dashboard: boolean;
  // What the gateway is started with to create its first administrator and token.
  credentials?: { email: string; password: string; token: string; file: string };
}

const LOOPBACK = '127.0.0.1';

export function planStack(env: CliEnv, options: UpOptions): StackPlan {
  const { repoRoot } = env;
  const { ports } = options;
  const notices: string[] = [];
  const urlOf = (name: PortName): string => `http://${LOOPBACK}:${ports[name]}`;

  const model: ModelMode = env.hasAnthropicKey
    ? { kind: 'anthropic' }
    : env.scriptedModelUrl !== undefined
      ? { kind: 'scripted', url: env.scriptedModelUrl, startsHere: false }
      : { kind: 'scripted', url: urlOf('scriptedModel'), startsHere: true };

  const shared: Env = {
    ...env.inherited,
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    ...Object.fromEntries(
      (Object.keys(PORT_VARIABLES) as PortName[]).map((name) => [PORT_VARIABLES[name], String(ports[name])]),
    ),
  };
  if (model.kind === 'scripted') shared.SCRIPTED_MODEL_URL = model.url;
  // The agents' own OpenTelemetry goes to this stack's metrics service (docs/observability.md).
  shared.RUNNER_METRICS_URL ??= urlOf('metrics');
  if (options.dashboard) {
    // The dashboard is its own origin here (no NGINX in front): the gateway and the pool let its
    // pages make changes with the session cookie. Behind NGINX all three share one origin.
    const origins = [urlOf('dashboard'), `http://localhost:${ports.dashboard}`].join(',');
    shared.GATEWAY_CORS_ORIGINS ??= origins;
    shared.WS_CORS_ORIGINS ??= origins;
  }
  const access = planAccess(env, options);
  if (access && options.credentials) {
    shared.HANGAR_ADMIN_EMAIL ??= options.credentials.email;
    shared.HANGAR_ADMIN_PASSWORD ??= options.credentials.password;
    shared.HANGAR_ADMIN_TOKEN ??= options.credentials.token;
  }

  const services = SERVICE_NAMES.map((name): PlannedProcess => {
    const portName = SERVICE_PORTS[name];
    const entry = path.join(repoRoot, 'services', name, 'dist', 'main.js');
    return {
      name,
      command: process.execPath,
      args: [entry],
      cwd: repoRoot,
      // (What the operator's own environment sets wins.)
      env: { ...SERVICE_PROCESS_ENV, ...shared },
      entry,
      port: ports[portName],
      portName,
      readiness: { url: `${urlOf(portName)}/health/ready` },
      url: urlOf(portName),
    };
  });

  let scriptedModel: PlannedProcess | undefined;
  if (model.kind === 'scripted' && model.startsHere) {
    const entry = path.join(repoRoot, 'libs', 'agents', 'dist', 'scripted-model', 'main.js');
    scriptedModel = {
      name: 'scripted-model',
      command: process.execPath,
      args: [entry],
      cwd: repoRoot,
      env: { ...shared, SCRIPTED_MODEL_HOST: LOOPBACK },
      entry,
      port: ports.scriptedModel,
      portName: 'scriptedModel',
      readiness: { url: `${model.url}/health`, acceptNotFound: true },
      url: model.url,
    };
  }

  let dashboard: PlannedProcess | undefined;
  if (options.dashboard) {
    dashboard = planDashboard(repoRoot, shared, ports, urlOf);
    if (!dashboard) notices.push('the dashboard is not built (apps/dashboard/.next): starting without it');
  }

  return { scriptedModel, services, dashboard, model, scenarios: listScenarios(repoRoot), notices, access };
}

// The caller's own HANGAR_ADMIN_* win over the machine's credentials file.
function planAccess(env: CliEnv, options: UpOptions): StackAccess | undefined {
  const own = env.inherited;
  const made = options.credentials;
  const token = own.HANGAR_ADMIN_TOKEN || made?.token;
  if (!token) return undefined;
  const ownEmail = own.HANGAR_ADMIN_EMAIL;
  return {
    email: ownEmail || made?.email || '(no administrator)',
    password: ownEmail ? undefined : made?.password,
    token,
    file: own.HANGAR_ADMIN_TOKEN ? undefined : made?.file,
  };
}

function planDashboard(
  repoRoot: string,
  shared: Env,
  ports: StackPorts,
  urlOf: (name: PortName) => string,
): PlannedProcess | undefined {
  const dir = path.join(repoRoot, 'apps', 'dashboard');
  if (!existsSync(path.join(dir, '.next', 'BUILD_ID'))) return undefined;
  let nextBin: string;
  try {
    nextBin = require.resolve('next/dist/bin/next', { paths: [dir] });
  } catch {
    return undefined;
  }
  return {
    name: 'dashboard',
    command: process.execPath,
    args: [nextBin, 'start', '-p', String(ports.dashboard), '-H', LOOPBACK],
    cwd: dir,
    env: {
      ...shared,
      NEXT_TELEMETRY_DISABLED: '1',
      NODE_ENV: 'production',
      // The dashboard's server passes /api/* to the gateway; browsers reach Socket.IO directly.
      HANGAR_API_URL: urlOf('gateway'),
      // Set (even empty: this origin, as behind NGINX), the caller's own wins.
      HANGAR_PUBLIC_WS_URL: shared.HANGAR_PUBLIC_WS_URL ?? urlOf('websocketPool'),
    },
    entry: path.join(dir, '.next', 'BUILD_ID'),
    port: ports.dashboard,
    portName: 'dashboard',
    readiness: { url: `${urlOf('dashboard')}/` },
    url: urlOf('dashboard'),
  };
}

export function listScenarios(repoRoot: string): string[] {
  try {
    const names = readdirSync(path.join(repoRoot, 'libs', 'agents', 'scenarios'))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length))
      .sort();
    return names.length > 0 ? names : KNOWN_SCENARIOS;
  } catch {
    return KNOWN_SCENARIOS;
  }
}

export function allPlanned(plan: StackPlan): PlannedProcess[] {
  return [
    ...(plan.scriptedModel ? [plan.scriptedModel] : []),
    ...plan.services,
    ...(plan.dashboard ? [plan.dashboard] : []),
  ];
}
