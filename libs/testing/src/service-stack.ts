import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processesWorkingIn } from '@hangar/agents';
import { API_TOKEN_PREFIX } from '@hangar/contracts';
import { randomSecret } from '@hangar/auth';
import { SERVICE_PROCESS_ENV } from '@hangar/config';
import { createTestDatabase, type TestDatabase } from './test-database';
import { redisUrl, uniqueRedisPrefix } from './test-env';

export const REPO_ROOT = path.resolve(__dirname, '../../..');

export const SERVICES = ['gateway', 'websocket-pool', 'orchestrator', 'agent-runner', 'metrics'] as const;
export type ServiceName = (typeof SERVICES)[number] | 'scripted-model';

const ENTRY: Record<ServiceName, string> = {
  gateway: 'services/gateway/dist/main.js',
  'websocket-pool': 'services/websocket-pool/dist/main.js',
  orchestrator: 'services/orchestrator/dist/main.js',
  'agent-runner': 'services/agent-runner/dist/main.js',
  metrics: 'services/metrics/dist/main.js',
  'scripted-model': 'libs/agents/dist/scripted-model/main.js',
};

const PORT_VARIABLE: Record<ServiceName, string> = {
  gateway: 'GATEWAY_PORT',
  'websocket-pool': 'WEBSOCKET_POOL_PORT',
  orchestrator: 'ORCHESTRATOR_PORT',
  'agent-runner': 'AGENT_RUNNER_PORT',
  metrics: 'METRICS_PORT',
  'scripted-model': 'SCRIPTED_MODEL_PORT',
};

// Below Linux's ephemeral range (32768+): a port the OS hands out for listen(0) or for an
// outgoing connection (to Redis, Postgres…) could be taken again before a service binds it,
// which made starts fail with EADDRINUSE under load.
const PORT_RANGE = { from: 20_000, to: 32_000 };

// Ports this process handed out: never twice (a port chosen and not bound yet still probes free).
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port)) continue;
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    server.close();
    await once(server, 'close');
    handedOut.add(port);
    return port;
  }
}

export interface ServiceProcess {
  name: ServiceName;
  child: ChildProcess;
  port: number;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  // Resolves with the first output line (past or future) that matches.
  waitForLine(predicate: (line: string) => boolean): Promise<string>;
}

// A whole Hangar stack of real processes on this machine's PostgreSQL and Redis, each test
// file with its own database, Redis key prefix, ports and workspace root.
export class ServiceStack {
  // By service name; extra runners (startRunner) by their own key.
  readonly processes = new Map<string, ServiceProcess>();
  readonly ports = new Map<ServiceName, number>();
  // Registered by the gateway as an admin token of the default project (HANGAR_ADMIN_TOKEN).
  readonly adminToken = randomSecret(API_TOKEN_PREFIX);
  // The first administrator (HANGAR_ADMIN_EMAIL / HANGAR_ADMIN_PASSWORD).
  readonly admin = { email: 'admin@hangar.test', password: randomSecret('pw-', 20) };

  private constructor(
    readonly database: TestDatabase,
    readonly redisPrefix: string,
    readonly dataDir: string,
    private readonly env: Record<string, string>,
  ) {}

  static async create(label: string, env: Record<string, string> = {}): Promise<ServiceStack> {
    const database = await createTestDatabase(label);
    const dataDir = await mkdtemp(path.join(tmpdir(), `hangar-${label}-`));
    const stack = new ServiceStack(database, uniqueRedisPrefix(label), dataDir, env);
    for (const name of [...SERVICES, 'scripted-model'] as const) stack.ports.set(name, await freePort());
    return stack;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.ports.get('gateway')}`;
  }

  get websocketUrl(): string {
    return `http://127.0.0.1:${this.ports.get('websocket-pool')}`;
  }

  get workspaceRoot(): string {
    return path.join(this.dataDir, 'workspaces');
  }

  environment(overrides: Record<string, string> = {}): Record<string, string> {
    const ports = Object.fromEntries(
      [...this.ports].map(([name, port]) => [PORT_VARIABLE[name], String(port)]),
    );
    return {
      ...SERVICE_PROCESS_ENV,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DATABASE_URL: this.database.url,
      REDIS_URL: redisUrl(),
      HANGAR_REDIS_PREFIX: this.redisPrefix,
      LOG_LEVEL: 'info',
      SCRIPTED_MODEL_URL: `http://127.0.0.1:${this.ports.get('scripted-model')}`,
      WORKSPACE_ROOT: this.workspaceRoot,
      RUNNER_HOME_ROOT: path.join(this.dataDir, 'homes'),
      // The runner's endpoints for agents on any free port: several runners share this machine.
      RUNNER_TASK_API_PORT: '0',
      HANGAR_ADMIN_TOKEN: this.adminToken,
      HANGAR_ADMIN_EMAIL: this.admin.email,
      HANGAR_ADMIN_PASSWORD: this.admin.password,
      ...ports,
      ...this.env,
      ...overrides,
    };
  }

  // Starts the named processes (default: the scripted model and all five services) and
  // resolves when each answers its readiness probe.
  // `nodeArgs` go to node itself (e.g. --cpu-prof, which NODE_OPTIONS may not carry).
  async start(
    names: readonly ServiceName[] = ['scripted-model', ...SERVICES],
    overrides: Record<string, string> = {},
    nodeArgs: string[] = [],
  ) {
    await Promise.all(names.map((name) => this.startOne(name, overrides, nodeArgs)));
  }

  // Another agent-runner beside the stack's own (a second runner pool, say), on ports of its
  // own; `key` names it in `processes` and `stop`.
  async startRunner(key: string, overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    await this.startOne('agent-runner', overrides, [], { key, port });
    return this.processes.get(key) as ServiceProcess;
  }

  spawn(
    name: ServiceName,
    overrides: Record<string, string> = {},
    nodeArgs: string[] = [],
    as: { key: string; port: number } = { key: name, port: this.ports.get(name) ?? 0 },
  ): ServiceProcess {
    const child = spawn(process.execPath, [...nodeArgs, path.join(REPO_ROOT, ENTRY[name])], {
      cwd: this.dataDir,
      env: this.environment({ [PORT_VARIABLE[name]]: String(as.port), ...overrides }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const output: string[] = [];
    const lines = new EventEmitter();
    const collect = (chunk: Buffer) => {
      const added = chunk.toString('utf8').split('\n').filter(Boolean);
      output.push(...added);
      for (const line of added) lines.emit('line', line);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const waitForLine = (predicate: (line: string) => boolean) =>
      new Promise<string>((resolve) => {
        const seen = output.find(predicate);
        if (seen !== undefined) return resolve(seen);
        const listener = (line: string) => {
          if (!predicate(line)) return;
          lines.off('line', listener);
          resolve(line);
        };
        lines.on('line', listener);
      });
    const entry: ServiceProcess = { name, child, port: as.port, output, exited, waitForLine };
    this.processes.set(as.key, entry);
    return entry;
  }

  // Another process (a test package running beside this one) may take a port between its
  // choice and the service's bind: a service that found its port taken starts again on another
  // (not the scripted model, whose port the other services were given).
  private async startOne(
    name: ServiceName,
    overrides: Record<string, string>,
    nodeArgs: string[],
    as?: { key: string; port: number },
  ) {
    for (let tries = 1; ; tries += 1) {
      const entry = this.spawn(name, overrides, nodeArgs, as);
      const started = await this.ready(name, entry);
      if (started === 'ready') return;
      const taken = entry.output.some((line) => line.includes('EADDRINUSE'));
      if (!taken || name === 'scripted-model' || tries >= 3)
        throw new Error(`${name} exited during start:\n${entry.output.slice(-20).join('\n')}`);
      const port = await freePort();
      if (as) as = { ...as, port };
      else this.ports.set(name, port);
    }
  }

  private async ready(name: ServiceName, entry: ServiceProcess): Promise<'ready' | 'exited'> {
    const probe = name === 'scripted-model' ? '/health' : '/health/ready';
    const deadline = Date.now() + 30_000;
    let exitedEarly = false;
    void entry.exited.then(() => (exitedEarly = true));
    while (Date.now() < deadline) {
      if (exitedEarly) return 'exited';
      try {
        // Bounded: whatever holds a taken port may never answer.
        const response = await fetch(`http://127.0.0.1:${entry.port}${probe}`, {
          signal: AbortSignal.timeout(2000),
        });
        if (response.ok) return 'ready';
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${name} not ready within 30 s:\n${entry.output.slice(-20).join('\n')}`);
  }

  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM') {
    const entry = this.processes.get(name);
    if (!entry || entry.child.exitCode !== null || entry.child.signalCode !== null) return;
    entry.child.kill(signal);
    await entry.exited;
  }

  // Processes whose working directory is inside `dir` (agent CLIs run in their workspace).
  processesIn(dir: string): number[] {
    return processesWorkingIn(dir).map((found) => found.pid);
  }

  // The agent CLIs (not the shells they started) working inside `dir`.
  // A CLI may briefly run a child of its own binary; only top-level agents (whose parent is
  // not an agent too) are counted.
  agentsIn(dir: string): number[] {
    const isAgent = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.includes('claude') ?? false;
      } catch {
        return false;
      }
    };
    const parentOf = (pid: number) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      } catch {
        return 0;
      }
    };
    return this.processesIn(dir).filter((pid) => isAgent(pid) && !isAgent(parentOf(pid)));
  }

  async dispose() {
    await Promise.all([...this.processes.keys()].map((name) => this.stop(name)));
    for (const pid of this.processesIn(this.dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.database.drop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
