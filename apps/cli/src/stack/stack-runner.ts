import { existsSync } from 'node:fs';
import path from 'node:path';
import { type CliEnv, PORT_VARIABLES, type PortName } from '../config/cli-env';
import { defaultBinarySearch } from '../deps/binary-locator';
import { ensureDependencies } from '../deps/dependency-check';
import type { ConsoleIo } from '../output/console-io';
import { type Palette, prefixStyle } from '../output/palette';
import { formatLogLine } from '../render/log-line-formatter';
import { formatDependencyReport } from '../deps/dependency-report';
import { describeExit, ManagedProcess } from './managed-process';
import { isPortFree } from './port-check';
import { NotReady, waitForHttp } from './readiness';
import { credentialsPath, ensureLocalCredentials } from '../config/local-credentials';
import { allPlanned, type PlannedProcess, planStack, type StackPlan, type UpOptions } from './stack-plan';

export const PORT_FLAGS: Record<PortName, string> = {
  gateway: '--gateway-port',
  websocketPool: '--websocket-pool-port',
  orchestrator: '--orchestrator-port',
  agentRunner: '--agent-runner-port',
  metrics: '--metrics-port',
  scriptedModel: '--scripted-model-port',
  dashboard: '--dashboard-port',
};

export const READY_LINE = 'hangar is up';

export interface StackRunOptions extends UpOptions {
  readyTimeoutMs: number;
  stopGraceMs: number;
  rawLogs: boolean;
}

class StartFailure extends Error {
  constructor(
    message: string,
    readonly process?: ManagedProcess,
  ) {
    super(message);
    this.name = 'StartFailure';
  }
}

// `hangar up`: dependencies, migrations, then every process, each awaited on its readiness
// endpoint; then it waits for Ctrl-C/SIGTERM (exit 0) or for a child to die (exit 1).
export class StackRunner {
  private readonly processes: ManagedProcess[] = [];
  private readonly width: number;
  private readonly palette: Palette;
  private readonly styles = new Map<string, (text: string) => string>();

  constructor(
    private readonly env: CliEnv,
    private readonly io: ConsoleIo,
    private readonly options: StackRunOptions,
    private readonly signal: AbortSignal,
  ) {
    this.palette = io.outPalette;
    this.width = Math.max('scripted-model'.length, 'dashboard'.length);
  }

  async run(): Promise<number> {
    const credentials = ensureLocalCredentials(this.env.hangarHome);
    const plan = planStack(this.env, {
      ...this.options,
      credentials: { ...credentials, file: credentialsPath(this.env.hangarHome) },
    });
    try {
      await this.prepare(plan);
      if (this.signal.aborted) return this.shutDown(0);
      if (plan.scriptedModel) await this.startGroup([plan.scriptedModel]);
      await this.startGroup(plan.services);
      if (plan.dashboard) await this.startGroup([plan.dashboard]);
    } catch (error) {
      if (this.signal.aborted) return this.shutDown(0);
      this.reportFailure(error);
      return this.shutDown(1);
    }
    this.printBanner(plan);
    return this.supervise();
  }

  private async prepare(plan: StackPlan): Promise<void> {
    const palette = this.palette;
    for (const notice of plan.notices) this.say(palette.yellow(notice));
    const migrateEntry = path.join(this.env.repoRoot, 'libs', 'db', 'dist', 'migrate-cli.js');
    const missing = [...allPlanned(plan).map((planned) => planned.entry), migrateEntry].filter(
      (file) => !existsSync(file),
    );
    if (missing.length > 0) {
      throw new StartFailure(
        [
          'not built yet:',
          ...missing.map((file) => `  ${path.relative(this.env.repoRoot, file)}`),
          'build first: ./hangar up builds before starting, or run `pnpm turbo run build`',
        ].join('\n'),
      );
    }

    const busy: string[] = [];
    for (const planned of allPlanned(plan)) {
      if (!(await isPortFree(planned.port))) {
        busy.push(
          `port ${planned.port} (${planned.name}) is in use; pick another with ${PORT_FLAGS[planned.portName]} ` +
            `or ${PORT_VARIABLES[planned.portName]}`,
        );
      }
    }
    if (busy.length > 0) throw new StartFailure(busy.join('\n'));

    const report = await ensureDependencies({
      databaseUrl: this.env.databaseUrl,
      redisUrl: this.env.redisUrl,
      hangarHome: this.env.hangarHome,
      search: defaultBinarySearch(this.env.searchPath),
      isRoot: this.env.isRoot,
    });
    for (const line of formatDependencyReport(report, palette)) this.say(line);
    if (!report.ok) throw new StartFailure('PostgreSQL and Redis must answer before hangar can start');

    if (plan.model.kind === 'scripted') this.announceScriptedModel(plan);
    await this.migrate(migrateEntry);
  }

  private async migrate(entry: string): Promise<void> {
    const migration = this.track(
      new ManagedProcess(
        {
          name: 'migrate',
          command: process.execPath,
          args: [entry],
          cwd: this.env.repoRoot,
          env: { ...this.env.inherited, DATABASE_URL: this.env.databaseUrl },
        },
        (name, line) => this.printChildLine(name, line),
      ),
    );
    migration.start();
    const exit = await migration.exited;
    if (exit.code !== 0)
      throw new StartFailure(`migrations failed: migrate ${describeExit(exit)}`, migration);
    this.say(`${this.palette.green('✓')} database migrated`);
  }

  private async startGroup(group: PlannedProcess[]): Promise<void> {
    const failed = new AbortController();
    const waitSignal = AbortSignal.any([this.signal, failed.signal]);
    const started = group.map((planned) => {
      const managed = this.track(
        new ManagedProcess(planned, (name, line) => this.printChildLine(name, line)),
      );
      managed.start();
      return { planned, managed };
    });
    try {
      await Promise.all(
        started.map(async ({ planned, managed }) => {
          const outcome = await Promise.race([
            waitForHttp(planned.readiness, {
              timeoutMs: this.options.readyTimeoutMs,
              signal: waitSignal,
            }).then(
              () => 'ready' as const,
              (error: unknown) => {
                if (error instanceof NotReady) {
                  throw new StartFailure(`${planned.name} did not become ready: ${error.message}`, managed);
                }
                throw error;
              },
            ),
            managed.exited.then((exit) => exit),
          ]);
          if (outcome !== 'ready') {
            throw new StartFailure(`${planned.name} ${describeExit(outcome)} while starting`, managed);
          }
          this.say(`${this.palette.green('✓')} ${planned.name} ready at ${planned.url}`);
        }),
      );
    } catch (error) {
      failed.abort();
      throw error;
    }
  }

  private async supervise(): Promise<number> {
    const aborted = new Promise<'signal'>((resolve) => {
      if (this.signal.aborted) resolve('signal');
      this.signal.addEventListener('abort', () => resolve('signal'), { once: true });
    });
    const died = Promise.race(
      this.processes
        .filter((managed) => managed.name !== 'migrate')
        .map((managed) => managed.exited.then(() => managed)),
    );
    const first = await Promise.race([aborted, died]);
    if (first === 'signal') return this.shutDown(0);
    this.reportFailure(
      new StartFailure(`${first.name} ${describeExit(first.exit ?? { code: null, signal: null })}`, first),
    );
    return this.shutDown(1);
  }

  private async shutDown(code: number): Promise<number> {
    const running = this.processes.filter((managed) => !managed.exit);
    if (running.length > 0) this.say(`stopping ${running.map((managed) => managed.name).join(', ')}…`);
    await Promise.all(this.processes.map((managed) => managed.stop(this.options.stopGraceMs)));
    this.say(code === 0 ? 'stopped' : 'stopped after a failure');
    return code;
  }

  private reportFailure(error: unknown): void {
    const palette = this.io.errPalette;
    const message = error instanceof Error ? error.message : String(error);
    const [first = '', ...rest] = message.split('\n');
    this.io.err(`${palette.red('✗')} ${first}`);
    for (const line of rest) this.io.err(line);
    if (error instanceof StartFailure && error.process) {
      const lines = error.process.lastLines();
      this.io.err(
        lines.length === 0
          ? palette.dim(`  (${error.process.name} printed nothing)`)
          : `  last lines of ${error.process.name}:`,
      );
      for (const line of lines) this.io.err(`  ${palette.dim(`${error.process.name} │`)} ${line}`);
    }
  }

  private announceScriptedModel(plan: StackPlan): void {
    if (plan.model.kind !== 'scripted') return;
    const loud = (text: string): string => this.palette.yellow(this.palette.bold(text));
    const where = plan.model.startsHere
      ? `started here at ${plan.model.url}`
      : `at ${plan.model.url} (SCRIPTED_MODEL_URL)`;
    this.say(loud('!! ANTHROPIC_API_KEY is not set: tasks run against the SCRIPTED MODEL, not Claude'));
    this.say(loud(`!! the scripted model is a fake Anthropic API, ${where}`));
    this.say(loud(`!! pick a scenario per task with "scenario": ${plan.scenarios.join(', ')}`));
    this.say(loud('!! set ANTHROPIC_API_KEY and run hangar up again to use Claude'));
  }

  private printBanner(plan: StackPlan): void {
    const palette = this.palette;
    const gateway = plan.services.find((service) => service.name === 'gateway');
    const socket = plan.services.find((service) => service.name === 'websocket-pool');
    const metrics = plan.services.find((service) => service.name === 'metrics');
    const api = gateway?.url ?? this.env.apiUrl;
    const rows: [string, string][] = [
      ['API', `${api}/api/v1/tasks   (health: ${api}/health/ready)`],
      ['Socket.IO', socket?.url ?? this.env.wsUrl],
      ['Dashboard', plan.dashboard ? plan.dashboard.url : 'not started'],
      ['Metrics', `${metrics?.url ?? ''}/metrics`],
      [
        'Model',
        plan.model.kind === 'scripted'
          ? `scripted model at ${plan.model.url} — no ANTHROPIC_API_KEY; scenarios: ${plan.scenarios.join(', ')}`
          : 'Claude (ANTHROPIC_API_KEY is set)',
      ],
    ];
    const access = plan.access;
    if (access) {
      const secret = access.password === undefined ? 'your HANGAR_ADMIN_PASSWORD' : access.password;
      rows.push(['Sign in', `${access.email} / ${secret}`]);
      rows.push(['API token', `${access.token}${access.file ? `   (both in ${access.file})` : ''}`]);
    }
    const scenario = plan.model.kind === 'scripted' ? ',"scenario":"write-file"' : '';
    const bearer = access ? ` -H 'authorization: Bearer ${access.token}'` : '';
    this.io.out('');
    this.io.out(palette.green(palette.bold(READY_LINE)));
    for (const [label, value] of rows) this.io.out(`  ${palette.bold(label.padEnd(10))} ${value}`);
    this.io.out('');
    this.io.out('start a task:');
    this.io.out(
      `  curl -s -X POST ${api}/api/v1/tasks${bearer} -H 'content-type: application/json' -d '{"prompt":"write a file"${scenario}}'`,
    );
    this.io.out(`  ./hangar run "write a file"${scenario === '' ? '' : ' --scenario write-file'} --follow`);
    this.io.out(palette.dim('Ctrl-C stops everything.'));
    this.io.out('');
  }

  private track(managed: ManagedProcess): ManagedProcess {
    this.processes.push(managed);
    return managed;
  }

  private say(line: string): void {
    this.io.out(`${this.palette.bold('hangar'.padEnd(this.width))} │ ${line}`);
  }

  private printChildLine(name: string, line: string): void {
    let style = this.styles.get(name);
    if (!style) {
      style = this.palette[prefixStyle(this.styles.size)];
      this.styles.set(name, style);
    }
    const text = this.options.rawLogs ? line : formatLogLine(line, this.palette);
    this.io.out(`${style(name.padEnd(this.width))} │ ${text}`);
  }
}
