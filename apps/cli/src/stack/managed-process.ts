import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Env } from '../config/cli-env';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Env;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

export type LineSink = (name: string, line: string, stream: 'stdout' | 'stderr') => void;

// One child of `hangar up`: its own process group (so stopping it also stops whatever it
// spawned), its output handed on line by line, and its last lines kept for failure reports.
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitInfo: ProcessExit | undefined;
  private readonly tail: string[] = [];
  readonly exited: Promise<ProcessExit>;
  private resolveExit: (exit: ProcessExit) => void = () => undefined;

  constructor(
    readonly spec: ProcessSpec,
    private readonly sink: LineSink,
    private readonly tailSize = 40,
  ) {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  lastLines(): string[] {
    return [...this.tail];
  }

  start(): void {
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    const pending = [this.pipe(child, 'stdout'), this.pipe(child, 'stderr')];
    child.once('error', (error) => {
      this.record({ code: null, signal: null, error: error.message });
    });
    child.once('exit', (code, signal) => {
      // Read what is still buffered, but do not wait on a grandchild that keeps the pipe open.
      void Promise.race([Promise.all(pending), sleep(500, undefined, { ref: false })]).then(() =>
        this.record({ code, signal }),
      );
    });
  }

  async stop(graceMs: number): Promise<ProcessExit | undefined> {
    if (!this.child || this.child.pid === undefined) return this.exitInfo;
    if (!this.exitInfo) {
      this.signalGroup('SIGTERM');
      const exited = await Promise.race([
        this.exited.then(() => true),
        sleep(graceMs, undefined, { ref: false }).then(() => false),
      ]);
      if (!exited) {
        this.signalGroup('SIGKILL');
        await this.exited;
      }
    }
    // Whatever the child left behind in its group goes too.
    this.signalGroup('SIGKILL');
    return this.exitInfo;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        if (!this.exitInfo) this.child?.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }

  private async pipe(child: ChildProcess, stream: 'stdout' | 'stderr'): Promise<void> {
    const input = child[stream];
    if (!input) return;
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on('line', (line) => {
      this.tail.push(line);
      if (this.tail.length > this.tailSize) this.tail.shift();
      this.sink(this.spec.name, line, stream);
    });
    await once(lines, 'close');
  }

  private record(exit: ProcessExit): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    this.resolveExit(exit);
  }
}

export function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `could not start (${exit.error})`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
