import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentEvent } from '@hangar/contracts';
import type { AgentFile, AgentInvocation } from '../agent-invocation';
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
import { niceAutogroups } from './autogroup';

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

// How the process is started and supervised.
export interface AgentProcessOptions {
  cwd: string;
  // Between SIGTERM (the CLI cleans up its shells) and SIGKILL.
  killGraceMs?: number;
  parser?: AgentOutputParser;
  // A longer stderr line becomes an `output.truncated` event (default: DEFAULT_MAX_EVENT_BYTES).
  maxEventBytes?: number;
  // Niceness of the agent's process (and so of everything it starts): 0 (the default) to 19.
  nice?: number;
  // Its sessions' too, where the kernel shares the CPU by session first (./autogroup.ts).
  niceSessions?: boolean;
  // A process with a readyFd not up within this long is stopped (default 30 s): a sandbox stuck
  // on its way up would otherwise be waited for forever.
  readyWithinMs?: number;
}

const DEFAULT_READY_WITHIN_MS = 30_000;

// What one run of it is held to, and where its output goes.
export interface AgentRunOptions {
  timeoutMs: number;
  maxOutputBytes?: number;
  onEvent: (event: AgentEvent) => void;
  onStderrLine?: (line: string) => void;
  // How long the run has waited for people so far (tool calls waiting for an approval, the wait
  // under way included): that time does not count against timeoutMs. Asked when the timeout
  // would fire; a failure to answer counts as no wait.
  waitedMs?: () => Promise<number>;
}

export type SpawnAgentOptions = AgentProcessOptions & AgentRunOptions;

// A CLI started ahead of its task (the runner's warm pool): its process is up, its stdin open,
// and it waits for its prompt. `begin` hands it its one run; until then its output is held.
export interface WaitingAgent {
  readonly pid: number;
  // Settles once it is up: at once, or when its invocation's readyFd says so (a sandbox started
  // ahead: its workspace may be moved from then on). Rejects once it is gone, when it exited
  // before or was stopped for not being up within readyWithinMs: nothing is left to discard.
  readonly ready: Promise<void>;
  // Whether it is still waiting: not exited, not begun, not stopped.
  isWaiting(): boolean;
  // Settles when the process is gone, whenever that is.
  readonly gone: Promise<AgentExit>;
  // Writes `input` to its stdin and closes it; the timeout starts now. Once only.
  begin(input: string, run: AgentRunOptions): AgentHandle;
  // Stops it (its whole process group) and resolves once it is gone.
  discard(reason: string): Promise<AgentExit>;
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
const MAX_HELD_EVENTS = 100;

export async function spawnAgent(
  invocation: AgentInvocation,
  options: SpawnAgentOptions,
): Promise<AgentHandle> {
  const supervisor = await startProcess(
    invocation,
    options,
    invocation.stdin === undefined ? 'ignore' : 'pipe',
  );
  supervisor.attach(options);
  if (invocation.stdin !== undefined) supervisor.writeInput(invocation.stdin);
  return supervisor.handle();
}

// Starts the CLI with its stdin open and nothing to read yet (its invocation waits for input, as
// Claude Code's `--input-format stream-json` does).
export async function startWaitingAgent(
  invocation: AgentInvocation,
  options: AgentProcessOptions,
): Promise<WaitingAgent> {
  const supervisor = await startProcess(invocation, options, 'pipe');
  return supervisor.waiting();
}

// An invocation's files (mode 0600, their folders made): before its process starts, or before a
// spare sandbox is told to run it (inSpareSandbox).
export function writeAgentFiles(files: readonly AgentFile[]): void {
  for (const file of files) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content, { mode: 0o600 });
  }
}

function startProcess(
  invocation: AgentInvocation,
  options: AgentProcessOptions,
  stdin: 'ignore' | 'pipe',
): Promise<AgentSupervisor> {
  return new Promise((resolve, reject) => {
    try {
      writeAgentFiles(invocation.files ?? []);
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
    const readyFd = invocation.readyFd;
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: invocation.env,
      detached: true,
      shell: false,
      stdio: [
        stdin,
        'pipe',
        'pipe',
        ...(readyFd === undefined ? [] : [...Array<'ignore'>(readyFd - 3).fill('ignore'), 'pipe' as const]),
      ],
    });
    // The CLI may exit before reading all of its input; a broken pipe is not our failure.
    child.stdin?.on('error', () => undefined);
    const supervisor = new AgentSupervisor(child, options, readyFd);
    child.once('spawn', () => {
      // Its session (and its sandbox's) niced as it is, when asked.
      if (options.nice && options.niceSessions && child.pid !== undefined) {
        const stopNicing = niceAutogroups(child.pid, options.nice);
        child.once('exit', stopNicing);
      }
      resolve(supervisor);
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
  // The run it serves; until attached (a waiting CLI), its output is held in `held`.
  private run: AgentRunOptions | undefined;
  private held: { event: AgentEvent; stderrLine: string | undefined }[] = [];
  private stopSnapshot: ProcessIdentity[] = [];
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private settle: (exit: AgentExit) => void = () => undefined;
  private readonly done = new Promise<AgentExit>((resolve) => {
    this.settle = resolve;
  });
  private readonly up: Promise<void>;
  private readonly readyStream: Readable | undefined;

  constructor(
    private readonly child: ChildProcess,
    private readonly options: AgentProcessOptions,
    readyFd?: number,
  ) {
    this.readyStream =
      readyFd === undefined ? undefined : ((child.stdio[readyFd] as Readable | null) ?? undefined);
    this.up = this.upWhenTold();
    this.up.catch(() => undefined);
    this.parser = options.parser ?? new ClaudeStreamParser();
    this.stderrLines = new LineSplitter(options.maxEventBytes);
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk));
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => this.onExit(code, signal));
    child.once('close', () => void this.onClose());
  }

  // The run starts: its timeout, its output limit (counting what the CLI printed while it
  // waited), and what it printed meanwhile.
  attach(run: AgentRunOptions): void {
    this.run = run;
    for (const { event, stderrLine } of this.held.splice(0)) this.deliver(event, stderrLine);
    if (run.maxOutputBytes !== undefined && this.outputBytes > run.maxOutputBytes && !this.outputClosed) {
      this.outputClosed = true;
      this.requestStop('output-limit', `output exceeded ${run.maxOutputBytes} bytes`);
    }
    if (!this.exit) this.armTimeout(Date.now(), run.timeoutMs);
  }

  writeInput(input: string): void {
    this.child.stdin?.end(input);
  }

  waiting(): WaitingAgent {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('agent process has no pid');
    return {
      pid,
      ready: this.up,
      isWaiting: () => !this.run && !this.exit && !this.stop,
      gone: this.done,
      begin: (input, run) => {
        if (this.run || this.stop) throw new Error('a waiting agent runs once');
        this.attach(run);
        this.writeInput(input);
        return this.handle();
      },
      discard: (reason) => {
        this.requestStop('cancelled', reason);
        return this.done;
      },
    };
  }

  // The timeout, pushed back by the time the run waited for people (options.waitedMs).
  private armTimeout(startedAt: number, inMs: number): void {
    this.later(inMs, () => {
      const { timeoutMs, waitedMs } = this.run!;
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
    for (const event of this.parser.push(chunk)) this.deliver(event);
  }

  private onStderr(chunk: Buffer): void {
    if (!this.acceptOutput(chunk.length)) return;
    for (const line of this.stderrLines.push(chunk)) this.emitStderr(line);
  }

  private emitStderr(line: OutputLine): void {
    if (line.text === '') return;
    this.deliver(
      line.truncated ? truncatedEvent('stderr', line) : { type: 'stderr', data: { line: line.text } },
      line.text,
    );
  }

  private deliver(event: AgentEvent, stderrLine?: string): void {
    const run = this.run;
    // Held for the run to come. A waiting CLI prints little, if anything: one that keeps printing
    // is stopped (its run, if any, then sees every line it printed), never trimmed.
    if (!run) {
      if (this.stop) return;
      this.held.push({ event, stderrLine });
      if (this.held.length > MAX_HELD_EVENTS)
        this.requestStop(
          'cancelled',
          `printed more than ${MAX_HELD_EVENTS} lines while waiting for its input`,
        );
      return;
    }
    run.onEvent(event);
    if (stderrLine !== undefined) run.onStderrLine?.(stderrLine);
  }

  private acceptOutput(bytes: number): boolean {
    if (this.outputClosed) return false;
    this.outputBytes += bytes;
    const limit = this.run?.maxOutputBytes;
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
    this.readyStream?.destroy();
    this.later(STDIO_CLOSE_GRACE_MS, () => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    });
  }

  // Up once its readyFd has a line (or at once without one); a process that exits first never
  // was, and says why in what it printed (bubblewrap's error, the bridge's).
  private upWhenTold(): Promise<void> {
    const stream = this.readyStream;
    if (!stream) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const withinMs = this.options.readyWithinMs ?? DEFAULT_READY_WITHIN_MS;
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.requestStop('cancelled', `not up within ${withinMs} ms`);
      }, withinMs);
      timer.unref();
      stream.once('data', () => {
        clearTimeout(timer);
        stream.destroy();
        resolve();
      });
      stream.on('error', () => undefined);
      void this.done.then((exit) => {
        clearTimeout(timer);
        if (late) return reject(new Error(`it was not up within ${withinMs} ms`));
        const printed = this.held.flatMap(({ stderrLine }) => (stderrLine ? [stderrLine] : []));
        reject(
          new Error(
            `it exited (${exit.exitCode ?? exit.signal}) before it was up${printed.length > 0 ? `: ${printed.slice(-3).join(' / ')}` : ''}`,
          ),
        );
      });
    });
  }

  private async onClose(): Promise<void> {
    if (!this.outputClosed) {
      for (const event of this.parser.end()) this.deliver(event);
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
