import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  ignoredRunOptions,
  inSpareSandbox,
  processesWorkingIn,
  signalProcesses,
  spawnAgent,
  summarizeResult,
  type AgentHandle,
  type AgentExit,
  writeAgentFiles,
} from '@hangar/agents';
import type { AgentEvent, AgentProfile, Task, TraceContext } from '@hangar/contracts';
import { inSpan, SpanKind } from '@hangar/observability';
import { RUN_SETTINGS, type RunSettings } from '../../config';
import {
  ATTEMPT_BACKEND,
  type AttemptBackend,
  type AttemptOutcome,
  type ClaimedAttempt,
} from '../attempts/attempt-backend';
import { AGENT_ACCESS, type AgentAccess, type AgentAccessProvider } from '../endpoints/agent-access';
import { AGENT_SANDBOX, type AgentSandbox } from '../sandbox/agent-sandbox';
import { AgentSessionStore } from './agent-session-store';
import { asksApproval, buildLaunch, makeHome, prepareHome } from './agent-launch';
import { RunnerMetrics } from './runner.metrics';
import { SpareSandboxes, type SpareSandbox } from './spare-sandboxes';
import { runCheck } from './task-check';
import { WARM_AGENTS, warmUnfit, type WarmAgent, type WarmAgents, type WarmMiss } from './warm-agent';
import { WorkspaceService, type FreshWorkspace, type PreparedWorkspace } from './workspace.service';

// Runs one claimed attempt: the agent CLI as a child process group on this host (in its sandbox,
// or in a task pod), its output recorded as the task's events, its result stored — all through
// the attempt backend (the repositories in the runner, the task API in a task pod).
@Injectable()
export class TaskRunService {
  private readonly logger = new Logger(TaskRunService.name);
  // Attempts this process has claimed and not finished (preparing their workspace or running),
  // and the agent of each once it is spawned.
  private readonly active = new Map<string, ClaimedAttempt>();
  private readonly running = new Map<string, AgentHandle>();
  // Why this runner stopped a task's agent itself: a cancel request, or its own shutdown. A stop
  // asked for before the agent is spawned applies as soon as it is.
  private readonly stopReasons = new Map<string, 'cancelled' | 'shutdown'>();
  // The workspace folder of each active attempt once prepared: tasks sharing one (workspaceOf)
  // must not run in it at once.
  private readonly workspaceDirs = new Map<string, string>();

  constructor(
    @Inject(ATTEMPT_BACKEND) private readonly backend: AttemptBackend,
    private readonly metrics: RunnerMetrics,
    private readonly sessions: AgentSessionStore,
    private readonly workspaces: WorkspaceService,
    @Inject(AGENT_SANDBOX) private readonly sandbox: AgentSandbox,
    @Inject(AGENT_ACCESS) private readonly access: AgentAccessProvider,
    @Inject(RUN_SETTINGS) private readonly config: RunSettings,
    // The long-lived runner's warm pool, or a warm task pod's one CLI (none in a cold pod).
    @Optional() @Inject(WARM_AGENTS) private readonly warm?: WarmAgents,
    // The long-lived runner's spare sandboxes (none in a task pod).
    @Optional() private readonly spares?: SpareSandboxes,
  ) {}

  runningTaskIds(): string[] {
    return [...this.active.keys()];
  }

  runningAttempts(): ClaimedAttempt[] {
    return [...this.active.values()];
  }

  cancel(taskId: string, reason: 'cancelled' | 'shutdown'): boolean {
    if (!this.active.has(taskId)) return false;
    this.stopReasons.set(taskId, reason);
    this.running.get(taskId)?.cancel(reason);
    return true;
  }

  // Claims one attempt of a task for this runner (QUEUED, with attempt - 1 attempts so far) and
  // runs it: what the queue worker and run-task.js both do. `claimed: false` when the task is
  // not waiting for that attempt; `finished` null when another runner took it over meanwhile.
  // `agentEnded` is called once, when no agent of this attempt runs any more (it exited, or
  // never started), before what follows it (its check, its diff and push, its end recorded).
  // All of it in a span of `trace` (the job's: docs/observability.md#one-trace-per-request),
  // whose context a cold-started agent CLI is given (TRACEPARENT).
  runAttempt(
    taskId: string,
    attempt: number,
    agentEnded?: () => void,
    trace?: TraceContext,
  ): Promise<{ claimed: false } | { claimed: true; finished: Task | null }> {
    return inSpan('task.run', trace, (own) => this.claimAndRun(taskId, attempt, agentEnded, own), {
      kind: SpanKind.CONSUMER,
      attributes: { 'hangar.task_id': taskId, 'hangar.attempt': attempt },
    });
  }

  private async claimAndRun(
    taskId: string,
    attempt: number,
    agentEnded: (() => void) | undefined,
    trace: TraceContext | undefined,
  ): Promise<{ claimed: false } | { claimed: true; finished: Task | null }> {
    let told = false;
    const agentGone = () => {
      if (!told) agentEnded?.();
      told = true;
    };
    const workspace = path.join(this.config.WORKSPACE_ROOT, taskId);
    const claimed = await this.backend.claim(taskId, attempt, {
      workspace,
      sandbox: this.sandbox.taskSandbox,
    });
    if (!claimed) return { claimed: false };
    this.logger.log(`task ${taskId} attempt ${attempt} started`);
    this.active.set(taskId, claimed);
    this.warm?.attemptStarted();
    let finished: Task | null;
    try {
      finished = await this.run(claimed, agentGone, trace);
    } finally {
      agentGone();
      this.active.delete(taskId);
      this.stopReasons.delete(taskId);
      this.workspaceDirs.delete(taskId);
      this.warm?.attemptEnded();
      this.spares?.attemptEnded();
    }
    this.logger.log(`task ${taskId} attempt ${attempt} ended ${finished?.status ?? '(taken over)'}`);
    return { claimed: true, finished };
  }

  private async run(
    attempt: ClaimedAttempt,
    agentEnded: (() => void) | undefined,
    trace: TraceContext | undefined,
  ): Promise<Task | null> {
    const { task } = attempt;
    const clock = new PhaseClock(task, this.metrics);
    let profile: AgentProfile;
    let warm: WarmAgent | undefined;
    // A cold CLI's sandbox, when one was made ahead of the task.
    let spare: SpareSandbox | undefined;
    try {
      profile = await attempt.profile();
      const unfit = this.warmUnfit(task);
      const taken = this.warm?.take(profile, unfit);
      warm = taken && 'agent' in taken ? taken.agent : undefined;
      if (!warm && this.spares?.fits(profile, unfit)) {
        spare = await this.spares.take();
        this.metrics.spareTakes.inc({ outcome: spare ? 'hit' : 'miss' });
      }
    } catch (error) {
      return attempt.finish({ status: 'FAILED', error: `workspace: ${describe(error)}` });
    }
    clock.startsAs(warm ? 'warm' : 'cold');

    // What the run needs and that does not depend on one another is made at once: the workspace,
    // the home (and a conversation's session in it), the attempt's credential.
    const homeDir = warm?.homeDir ?? path.join(this.config.RUNNER_HOME_ROOT, `${task.id}-${task.attempts}`);
    const configDir = path.join(homeDir, '.claude');
    const accessOpened = (
      warm
        ? warm.access.grant(task, task.attempts)
        : this.access.open(task, task.attempts, profile.provider, this.sandbox.mode === 'bwrap')
    ).then(
      (access) => ({ access }),
      (error: unknown) => ({ error }),
    );
    // The profile's files and a conversation's session go into the home once it is new: never
    // before makeHome has cleared what an earlier attempt left there.
    // (A spare sandbox's home moves to where the attempt's belongs: its mount follows it.)
    const homeCreated = warm
      ? Promise.resolve()
      : spare
        ? rm(homeDir, { recursive: true, force: true }).then(() => rename(spare.homeDir, homeDir))
        : makeHome(homeDir);
    const homeMade = warm
      ? Promise.resolve(null)
      : homeCreated.then(() => this.sessions.restore(attempt, configDir));
    // (Awaited below, or settled when the workspace fails: never an unhandled rejection meanwhile.)
    homeMade.catch(() => undefined);
    // The run ends before its agent starts: what was made for it is let go.
    const abandon = async (why: string) => {
      const opened = await accessOpened;
      await Promise.allSettled([homeMade, 'access' in opened ? opened.access.release() : undefined]);
      if (warm) void warm.process.discard(why);
      if (spare) void spare.process.discard(why);
    };
    let prepared: PreparedWorkspace;
    try {
      prepared = await this.prepareWorkspace(attempt, warm?.workspace ?? spare?.workspace);
    } catch (error) {
      await abandon('its task could not have its workspace');
      return this.conclude(attempt, () =>
        attempt.finish({ status: 'FAILED', error: `workspace: ${describe(error)}` }),
      );
    }
    // RUNNING was announced while all this was made; without it no agent starts: the task goes
    // back to the queue, as from a runner that stops.
    const unannounced = await attempt.announced.then(
      () => null,
      (error: unknown) => error,
    );
    if (unannounced) {
      this.logger.warn(
        `task ${task.id}: its start could not be announced (${describe(unannounced)}); requeued`,
      );
      await abandon('its task could not be announced');
      return this.conclude(attempt, () => attempt.requeue());
    }

    const kept: AgentEvent[] = [];
    const stderrTail: string[] = [];
    // Told finished at its result (finishesAtResult): what the exiting CLI prints after is not
    // recorded (its events end with its status).
    let told = false;
    let resulted = () => {};
    const result = this.finishesAtResult(task, profile)
      ? new Promise<'result'>((resolve) => (resulted = () => resolve('result')))
      : undefined;
    const record = (event: AgentEvent) => {
      if (told) return;
      clock.saw(event);
      if (event.type === 'system.init' || event.type === 'result') kept.push(event);
      this.metrics.events.inc({ type: event.type });
      attempt.record(event);
      if (event.type === 'result') resulted();
    };

    const maxOutputBytes = profile.maxOutputBytes ?? this.config.RUNNER_MAX_OUTPUT_BYTES;
    let exit: RunExit;
    let access: AgentAccess | undefined;
    let early: { finished: Task | null } | { error: unknown } | undefined;
    const stopTimer = this.metrics.duration.startTimer();
    this.metrics.running.inc();
    try {
      if (this.sandbox.mode === 'off') {
        this.logger.warn(`task ${task.id}: the agent runs without a sandbox (RUNNER_SANDBOX=off)`);
        record({
          type: 'stderr',
          data: {
            line: 'hangar: this runner runs agents without a sandbox (RUNNER_SANDBOX=off): the agent can reach everything the runner can',
          },
        });
      }
      const opened = await accessOpened;
      if ('error' in opened) throw opened.error;
      access = opened.access;
      const run = {
        timeoutMs: task.timeoutSeconds * 1000,
        maxOutputBytes,
        onEvent: record,
        // Time its tool calls wait for people does not count against the task's timeout.
        ...(asksApproval(profile) ? { waitedMs: () => attempt.approvalWaitMs() } : {}),
        // The agent's stderr is recorded as events already; the tail names a failure.
        onStderrLine: (line: string) => {
          stderrTail.push(line);
          if (stderrTail.length > 5) stderrTail.shift();
        },
      };
      let handle: AgentHandle;
      if (warm) {
        handle = warm.process.begin(warm.promptInput(task.prompt), run);
      } else {
        const place = { homeDir, workspaceDir: prepared.dir };
        const [resumeSessionId] = await Promise.all([
          homeMade,
          homeCreated.then(() => prepareHome(profile, place, this.sandbox)),
        ]);
        const { adapter, spec, invocation } = await buildLaunch({
          profile,
          access,
          place,
          sandbox: this.sandbox,
          // In a spare sandbox, the CLI is started by the script it is told to run.
          ...(spare ? { unwrapped: true } : {}),
          claudeBin: this.config.CLAUDE_BIN,
          prompt: task.prompt,
          resumeSessionId,
          outputSchema: task.outputSchema,
          telemetry: { task, ...(trace ? { trace } : {}) },
        });
        for (const { option, reason } of ignoredRunOptions(adapter, { ...spec, prompt: task.prompt })) {
          record({
            type: 'stderr',
            data: { line: `hangar: ${profile.provider} ignores the profile's ${option}: ${reason}` },
          });
        }
        if (spare) {
          const launch = inSpareSandbox(invocation, { ...spare.run, workspace: prepared.dir, home: homeDir });
          writeAgentFiles(launch.files);
          handle = spare.process.begin(launch.input, run);
        } else
          handle = await spawnAgent(invocation, {
            parser: adapter.createParser({ maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES }),
            cwd: prepared.dir,
            maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES,
            nice: this.config.RUNNER_AGENT_NICE,
            niceSessions: this.config.RUNNER_AGENT_NICE_SESSIONS,
            ...run,
          });
      }
      clock.started();
      this.running.set(task.id, handle);
      const stopAsked = this.stopReasons.get(task.id);
      if (stopAsked) handle.cancel(stopAsked);
      if (result) {
        const exited = handle.done.then(() => 'exited' as const);
        if ((await Promise.race([exited, result])) === 'result') {
          const outcome = this.outcomeAtResult(task, prepared, kept, maxOutputBytes);
          if (outcome) {
            told = true;
            stopTimer({ status: outcome.status });
            this.metrics.finished.inc({ status: outcome.status });
            early = await this.workspaces
              .deliverUntouched(attempt, prepared)
              .then(() => attempt.finish(outcome, { agentExiting: true }))
              .then(
                (finished) => ({ finished }),
                (error: unknown) => ({ error }),
              );
            clock.finished();
          }
        }
      }
      const agentExit = await handle.done;
      exit = {
        ...agentExit,
        reason:
          agentExit.reason === 'cancelled'
            ? (this.stopReasons.get(task.id) ?? 'cancelled')
            : agentExit.reason,
      };
    } catch (error) {
      if (warm) void warm.process.discard('its task failed to start it');
      if (spare?.process.isWaiting()) void spare.process.discard('its task failed to start its CLI');
      exit = { exitCode: null, signal: null, reason: 'spawn-failed', message: describe(error) };
    } finally {
      this.running.delete(task.id);
      this.metrics.running.dec();
      agentEnded?.();
    }
    // Nothing of this attempt's may reach the runner any more (its agent is gone): revoked while
    // its events are flushed.
    await Promise.all([access?.release(), attempt.flushEvents()]);
    if (early) {
      await rm(homeDir, { recursive: true, force: true });
      if (exit.exitCode !== 0)
        this.logger.warn(
          `task ${task.id}: its agent exited ${exit.exitCode ?? exit.signal} after its result; the task had been told ${'finished' in early ? early.finished?.status : 'nothing'}`,
        );
      if ('error' in early) throw early.error;
      return early.finished;
    }

    // Not the task's fault: give it back to the queue for another runner.
    if (exit.reason === 'shutdown') return this.conclude(attempt, () => attempt.requeue());
    const summary = summarizeResult(kept);
    let outcome = toOutcome(task, exit, summary, stderrTail, maxOutputBytes);
    // A workflow step's check, once its agent completed: how it ended goes with the task (the
    // workflow decides what a failed check means), the task's own status stays the agent's.
    if (task.check && outcome.status === 'COMPLETED')
      outcome = {
        ...outcome,
        checkResult: await runCheck(task.check, prepared.dir, this.sandbox.gitSandbox()),
      };
    stopTimer({ status: outcome.status });
    this.metrics.finished.inc({ status: outcome.status });

    // What the agent changed (a git workspace), and its branch pushed when asked.
    const delivered = await this.workspaces.deliver(attempt, prepared, outcome.status === 'COMPLETED');
    if (delivered.error) outcome = { ...outcome, status: 'FAILED', error: delivered.error };
    if (task.conversationId) {
      if (summary.agentSessionId) await this.sessions.save(attempt, configDir, summary.agentSessionId);
      await attempt.addAnswer(outcome.result ?? outcome.error ?? '');
    }
    // Everything worth keeping from the run's home (the session transcript) is stored now.
    const [finished] = await Promise.all([
      this.conclude(attempt, () => attempt.finish(outcome)),
      rm(homeDir, { recursive: true, force: true }),
    ]);
    clock.finished();
    return finished;
  }

  // The Claude Code CLI exits 30–40 ms after printing its result (~2 s when its telemetry's
  // collector does not answer). A task whose outcome nothing after its result can change is told
  // finished at the result, its CLI left to exit meanwhile (its slot, workspace and credential
  // held until it has): not a conversation's turn (its session is saved from the home after
  // the exit), not a workflow's step or a task with a check or a push (what follows the agent
  // decides their outcome; only workflow steps and conversation turns share a workspace, so
  // none waits for one still exiting), not one whose repository's settings may run hooks at
  // the CLI's exit, not in a task pod (its credential for the task API ends with the task).
  private finishesAtResult(task: Task, profile: AgentProfile): boolean {
    return (
      this.sandbox.mode !== 'pod' &&
      !task.conversationId &&
      !task.workflowRunId &&
      !task.check &&
      !task.push &&
      !profile.trustRepositorySettings
    );
  }

  // The outcome at the result, when it is whole: the agent succeeded and left its workspace as
  // it was given (the diff, empty, needs no git: deliverUntouched). Else null: the task ends when
  // its CLI exits.
  private outcomeAtResult(
    task: Task,
    prepared: PreparedWorkspace,
    kept: AgentEvent[],
    maxOutputBytes: number,
  ): AttemptOutcome | null {
    const summary = summarizeResult(kept);
    if (summary.isError || !this.workspaces.untouched(prepared)) return null;
    const exited = { exitCode: 0, signal: null, reason: 'exited' as const };
    return toOutcome(task, exited, summary, [], maxOutputBytes);
  }

  // How a run ends (finished, or back to the queue). Its workspace is free before the task is told
  // so: a workflow's next step (or a conversation's next turn) that works in it may be claimed
  // here the moment it is (runAttempt's finally would free it too late).
  private conclude(attempt: ClaimedAttempt, end: () => Promise<Task | null>): Promise<Task | null> {
    this.workspaceDirs.delete(attempt.task.id);
    return end();
  }

  // The task's workspace: the warm CLI's or the spare sandbox's, moved to where the task's belongs,
  // or prepared now.
  private async prepareWorkspace(attempt: ClaimedAttempt, made: FreshWorkspace | undefined) {
    const { task } = attempt;
    const prepared = made ? await this.workspaces.adopt(made, task) : await this.workspaces.prepare(attempt);
    this.takeWorkspace(task.id, prepared.dir);
    await attempt.recordWorkspace(prepared);
    // Strays live only where an earlier run worked: a retry's, a conversation's or a shared
    // workspace (scanning every process costs a fresh task more than it could find).
    if (!made && (task.attempts > 1 || task.conversationId || task.workspaceOf))
      this.reapStrays(task, prepared.dir);
    return prepared;
  }

  // Why a task cannot take a warm CLI, whose workspace is new and empty and whose CLI started
  // with no session and no output schema; null when it can.
  private warmUnfit(task: Task): WarmMiss | null {
    // A retry finds its earlier attempt's workspace and goes on in it.
    return (
      warmUnfit(task) ??
      (existsSync(path.join(this.config.WORKSPACE_ROOT, task.id)) ? 'workspace-exists' : null)
    );
  }

  // Two agents in one folder would mix their changes (and diffs), and the second would stop the
  // first as a stray: a task sharing an earlier task's workspace waits for no one, it fails.
  private takeWorkspace(taskId: string, dir: string) {
    for (const [otherId, otherDir] of this.workspaceDirs) {
      if (otherDir === dir)
        throw new Error(
          `${dir} is in use by task ${otherId}, still running on this runner: tasks that share a workspace must run one after another`,
        );
    }
    this.workspaceDirs.set(taskId, dir);
  }

  // A retry after a lost runner shares the workspace with the lost run's agent, which may
  // still be alive (its runner died, not it): stop it before a second agent writes there.
  private reapStrays(task: Task, workspace: string) {
    const strays = processesWorkingIn(workspace);
    if (strays.length === 0) return;
    this.logger.warn(
      `task ${task.id}: stopping ${strays.length} process(es) left in its workspace by an earlier attempt`,
    );
    signalProcesses(strays, 'SIGKILL');
  }
}

type RunExit = Omit<AgentExit, 'reason'> & {
  reason: AgentExit['reason'] | 'shutdown' | 'spawn-failed';
  message?: string;
};

export function toOutcome(
  task: Task,
  exit: RunExit,
  summary: ReturnType<typeof summarizeResult>,
  stderrTail: string[],
  maxOutputBytes?: number,
): AttemptOutcome {
  const measured = {
    result: summary.result,
    costUsd: summary.costUsd,
    usage: summary.usage,
    numTurns: summary.numTurns,
    durationMs: summary.durationMs,
    agentSessionId: summary.agentSessionId,
    exitCode: exit.exitCode,
  };
  const lastWords = stderrTail.at(-1) ?? summary.result ?? '';
  switch (exit.reason) {
    case 'cancelled':
      return { ...measured, status: 'CANCELLED', error: 'cancelled: stopped on request' };
    case 'timeout':
      return {
        ...measured,
        status: 'FAILED',
        error: `timeout: no result within ${task.timeoutSeconds}s; the agent was stopped`,
      };
    case 'output-limit':
      return {
        ...measured,
        status: 'FAILED',
        error: `output-limit: the agent printed more than ${maxOutputBytes ?? 'the allowed'} bytes and was stopped`,
      };
    case 'spawn-failed':
      return {
        ...measured,
        status: 'FAILED',
        error: `spawn-failed: ${exit.message ?? 'the agent CLI could not be started'}`,
      };
    case 'shutdown':
    case 'exited':
      break;
  }
  if (exit.exitCode !== 0) {
    return {
      ...measured,
      status: 'FAILED',
      error: `exit-code: the agent exited with code ${exit.exitCode ?? exit.signal}${lastWords ? `: ${lastWords}` : ''}`,
    };
  }
  if (summary.isError) {
    return {
      ...measured,
      status: 'FAILED',
      error: `agent-error: ${summary.result ?? 'the agent reported an error'}`,
    };
  }
  return { ...measured, status: 'COMPLETED', error: null };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// The phases of one attempt (hangar_task_phase_seconds): queue (first attempts only), prepare,
// start, run, finish, and created → first event.
class PhaseClock {
  private readonly claimedAt = Date.now();
  private start: 'warm' | 'cold' = 'cold';
  private startedAt: number | undefined;
  private firstAt: number | undefined;
  private resultAt: number | undefined;

  constructor(
    private readonly task: Task,
    private readonly metrics: RunnerMetrics,
  ) {}

  startsAs(start: 'warm' | 'cold'): void {
    this.start = start;
    if (this.task.attempts === 1) this.observe('queue', Date.parse(this.task.createdAt), this.claimedAt);
  }

  started(): void {
    this.startedAt = Date.now();
    this.observe('prepare', this.claimedAt, this.startedAt);
  }

  saw(event: AgentEvent): void {
    const now = Date.now();
    if (this.firstAt === undefined && event.type !== 'stderr') {
      this.firstAt = now;
      if (this.startedAt !== undefined) this.observe('start', this.startedAt, now);
      if (this.task.attempts === 1) this.observe('first_event', Date.parse(this.task.createdAt), now);
    }
    if (event.type === 'result' && this.resultAt === undefined) {
      this.resultAt = now;
      if (this.firstAt !== undefined) this.observe('run', this.firstAt, now);
    }
  }

  finished(): void {
    if (this.resultAt !== undefined) this.observe('finish', this.resultAt, Date.now());
  }

  private observe(phase: string, from: number, to: number): void {
    if (Number.isFinite(from) && to >= from)
      this.metrics.phases.observe({ phase, start: this.start }, (to - from) / 1000);
  }
}
