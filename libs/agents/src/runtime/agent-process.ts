import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentEvent } from '@hangar/contracts';
import type { AgentInvocation } from '../agent-invocation';
import { type AgentOutputParser, truncatedEvent } from '../agent-output.parser';
import { ClaudeStreamParser } from '../claude/claude-stream.parser';
import { LineSplitter, type OutputLine } from '../line-splitter';
import {
  isGroupAlive,
  isRunning,
  listDescendants,
  type ProcessIdentity,
  signalProcesses,
  trySignal,
} from './process-tree';

export type AgentExitReason = 'exited' | 'timeout' | 'cancelled' | 'output-limit';

export interface AgentExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  reason: AgentExitReason;
  // The cancel reason, or what limit was hit.
  detail?: string;
}

export interface AgentHandle {
  readonly pid: number;
  cancel(reason?: string): void;
  // Settles once the process has exited and its process group is gone; never rejects.
  readonly done: Promise<AgentExit>;
}

export interface SpawnAgentOptions {
  cwd: string;
  timeoutMs: number;
  maxOutputBytes?: number;
  // Between SIGTERM (the CLI cleans up its shells) and SIGKILL.
  killGraceMs?: number;
  onEvent: (event: AgentEvent) => void;
  onStderrLine?: (line: string) => void;
  parser?: AgentOutputParser;
  // A longer stderr line becomes an `output.truncated` event (default: DEFAULT_MAX_EVENT_BYTES).
  maxEventBytes?: number;
  // Niceness of the agent's process (and so of everything it starts): 0 (the default) to 19.
  nice?: number;
  // How long the run has waited for people so far (tool calls waiting for an approval, the wait
  // under way included): that time does not count against timeoutMs. Asked when the timeout
  // would fire; a failure to answer counts as no wait.
  waitedMs?: () => Promise<number>;
}

export class AgentSpawnFailed extends Error {
  constructor(command: string, cause: Error) {
    super(`could not start ${command}: ${cause.message}`, { cause });
    this.name = 'AgentSpawnFailed';
  }
}

// coreutils' nice: it execs the command, so the agent keeps its pid (and its process group).
const NICE = ['/usr/bin/nice', '/bin/nice'].find((candidate) => existsSync(candidate)) ?? 'nice';

const DEFAULT_KILL_GRACE_MS = 3_000;
// How long to wait for stdio to close after the process exited, in case an escaped
// descendant still holds the pipes.
const STDIO_CLOSE_GRACE_MS = 2_000;
const GROUP_EXIT_WAIT_MS = 2_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export function spawnAgent(invocation: AgentInvocation, options: SpawnAgentOptions): Promise<AgentHandle> {
  return new Promise((resolve, reject) => {
    try {
      for (const file of invocation.files ?? []) {
        mkdirSync(path.dirname(file.path), { recursive: true });
        writeFileSync(file.path, file.content, { mode: 0o600 });
      }
    } catch (error) {
      reject(
        new AgentSpawnFailed(invocation.command, error instanceof Error ? error : new Error(String(error))),
      );
      return;
    }
    // Own process group (detached) so cancel reaches every process the CLI started in it; no shell.
    // A niceness is set by nice(1) before the command runs (set from here after spawn, it would
    // race the child's first forks).
    if (options.nice && path.isAbsolute(invocation.command) && !existsSync(invocation.command)) {
      // (nice(1) would report it as its own exit status 127: say it as spawn does.)
      reject(new AgentSpawnFailed(invocation.command, new Error(`spawn ${invocation.command} ENOENT`)));
      return;
    }
    const [command, args] = options.nice
      ? [NICE, ['-n', String(options.nice), '--', invocation.command, ...invocation.args]]
      : [invocation.command, invocation.args];
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: invocation.env,
      detached: true,
      shell: false,
      stdio: [invocation.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const supervisor = new AgentSupervisor(child, options);
    child.once('spawn', () => {
      if (invocation.stdin !== undefined && child.stdin) {
        // The CLI may exit before reading all of it; a broken pipe is not our failure.
        child.stdin.on('error', () => undefined);
        child.stdin.end(invocation.stdin);
      }
      resolve(supervisor.handle());
    });
    child.once('error', (error) => {
      if (child.pid === undefined) {
        supervisor.abandon();
        reject(new AgentSpawnFailed(invocation.command, error));
      }
    });
  });
}

class AgentSupervisor {
  private readonly parser: AgentOutputParser;
  private readonly stderrLines: LineSplitter;
  private outputBytes = 0;
  private outputClosed = false;
  private stop: { reason: AgentExitReason; detail?: string } | undefined;
  private stopSnapshot: ProcessIdentity[] = [];
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private settle: (exit: AgentExit) => void = () => undefined;
  private readonly done = new Promise<AgentExit>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly child: ChildProcess,
    private readonly options: SpawnAgentOptions,
  ) {
    this.parser = options.parser ?? new ClaudeStreamParser();
    this.stderrLines = new LineSplitter(options.maxEventBytes);
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk));
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => this.onExit(code, signal));
    child.once('close', () => void this.onClose());
    this.armTimeout(Date.now(), options.timeoutMs);
  }

  // The timeout, pushed back by the time the run waited for people (options.waitedMs).
  private armTimeout(startedAt: number, inMs: number): void {
    this.later(inMs, () => {
      const { timeoutMs, waitedMs } = this.options;
      if (!waitedMs) return this.requestStop('timeout', `no exit within ${timeoutMs} ms`);
      void waitedMs()
        .catch(() => 0)
        .then((waited) => {
          if (this.stop || this.exit) return;
          const left = startedAt + timeoutMs + waited - Date.now();
          if (left > 0) this.armTimeout(startedAt, left);
          else
            this.requestStop(
              'timeout',
              `no exit within ${timeoutMs} ms${waited > 0 ? ` (besides ${waited} ms waiting for approvals)` : ''}`,
            );
        });
    });
  }

  handle(): AgentHandle {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('agent process has no pid');
    return { pid, cancel: (reason) => this.requestStop('cancelled', reason), done: this.done };
  }

  abandon(): void {
    this.clearTimers();
  }

  private onStdout(chunk: Buffer): void {
    if (!this.acceptOutput(chunk.length)) return;
    for (const event of this.parser.push(chunk)) this.options.onEvent(event);
  }

  private onStderr(chunk: Buffer): void {
    if (!this.acceptOutput(chunk.length)) return;
    for (const line of this.stderrLines.push(chunk)) this.emitStderr(line);
  }

  private emitStderr(line: OutputLine): void {
    if (line.text === '') return;
    this.options.onEvent(
      line.truncated ? truncatedEvent('stderr', line) : { type: 'stderr', data: { line: line.text } },
    );
    this.options.onStderrLine?.(line.text);
  }

  private acceptOutput(bytes: number): boolean {
    if (this.outputClosed) return false;
    this.outputBytes += bytes;
    const limit = this.options.maxOutputBytes;
    if (limit !== undefined && this.outputBytes > limit) {
      this.outputClosed = true;
      this.requestStop('output-limit', `output exceeded ${limit} bytes`);
      return false;
    }
    return true;
  }

  private requestStop(reason: AgentExitReason, detail?: string): void {
    const pid = this.child.pid;
    if (this.stop || this.exit || pid === undefined) return;
    this.stop = detail === undefined ? { reason } : { reason, detail };
    // Snapshot first: once the CLI dies, its setsid'd shells are orphans nobody can find.
    this.stopSnapshot = listDescendants(pid);
    trySignal(-pid, 'SIGTERM');
    signalProcesses(this.stopSnapshot, 'SIGTERM');
    this.later(this.options.killGraceMs ?? DEFAULT_KILL_GRACE_MS, () => this.killEverything());
  }

  private killEverything(): void {
    const pid = this.child.pid;
    if (pid !== undefined) trySignal(-pid, 'SIGKILL');
    signalProcesses(this.stopSnapshot, 'SIGKILL');
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exit = { code, signal };
    // Whatever the CLI left running in its group (or, when stopped, anywhere) goes with it.
    this.killEverything();
    this.later(STDIO_CLOSE_GRACE_MS, () => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    });
  }

  private async onClose(): Promise<void> {
    if (!this.outputClosed) {
      for (const event of this.parser.end()) this.options.onEvent(event);
      for (const line of this.stderrLines.end()) this.emitStderr(line);
    }
    this.outputClosed = true;
    this.clearTimers();
    const pid = this.child.pid;
    if (pid !== undefined) await waitForExit(pid, this.stopSnapshot);
    const exit = this.exit ?? { code: this.child.exitCode, signal: this.child.signalCode };
    const result: AgentExit = {
      exitCode: exit.code,
      signal: exit.signal,
      reason: this.stop?.reason ?? 'exited',
    };
    if (this.stop?.detail !== undefined) result.detail = this.stop.detail;
    this.settle(result);
  }

  private later(ms: number, action: () => void): void {
    // setTimeout treats anything above 2^31-1 ms as 1 ms.
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        action();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

// The group, and what a stop found running (a sandbox's processes are in a session of their
// own, killed by the kernel as its PID namespace ends): stopped means gone, not dying.
async function waitForExit(pgid: number, stopped: readonly ProcessIdentity[]): Promise<void> {
  const deadline = Date.now() + GROUP_EXIT_WAIT_MS;
  const remaining = () => isGroupAlive(pgid) || stopped.some(isRunning);
  while (remaining() && Date.now() < deadline) {
    trySignal(-pgid, 'SIGKILL');
    signalProcesses(stopped, 'SIGKILL');
    await sleep(20);
  }
}
