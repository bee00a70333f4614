import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  agentAdapterFor,
  agentRuntimePaths,
  ignoredRunOptions,
  prepareClaudeHome,
  processesWorkingIn,
  signalProcesses,
  spawnAgent,
  summarizeResult,
  type AgentHandle,
  type AgentInvocation,
  type AgentPermissionMode,
  type AgentRunSpec,
  type AgentExit,
} from '@hangar/agents';
import {
  APPROVAL_TOOL,
  HANGAR_MCP_SERVER,
  type AgentEvent,
  type AgentProfile,
  type Task,
} from '@hangar/contracts';
import { SANDBOX_HOME, SANDBOX_WORKSPACE } from '@hangar/sandbox';
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
import { MCP_CONFIG_FILE, writeMcpConfig } from './profile-files';
import { RunnerMetrics } from './runner.metrics';
import { runCheck } from './task-check';
import { WorkspaceService, type PreparedWorkspace } from './workspace.service';

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
  async runAttempt(
    taskId: string,
    attempt: number,
  ): Promise<{ claimed: false } | { claimed: true; finished: Task | null }> {
    const workspace = path.join(this.config.WORKSPACE_ROOT, taskId);
    const claimed = await this.backend.claim(taskId, attempt, {
      workspace,
      sandbox: this.sandbox.taskSandbox,
    });
    if (!claimed) return { claimed: false };
    this.logger.log(`task ${taskId} attempt ${attempt} started`);
    this.active.set(taskId, claimed);
    let finished: Task | null;
    try {
      finished = await this.run(claimed);
    } finally {
      this.active.delete(taskId);
      this.stopReasons.delete(taskId);
      this.workspaceDirs.delete(taskId);
    }
    this.logger.log(`task ${taskId} attempt ${attempt} ended ${finished?.status ?? '(taken over)'}`);
    return { claimed: true, finished };
  }

  private async run(attempt: ClaimedAttempt): Promise<Task | null> {
    const { task } = attempt;
    let prepared: PreparedWorkspace;
    let profile: AgentProfile;
    try {
      profile = await attempt.profile();
      prepared = await this.workspaces.prepare(attempt);
      this.takeWorkspace(task.id, prepared.dir);
      await attempt.recordWorkspace(prepared);
      this.reapStrays(task, prepared.dir);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return attempt.finish({ status: 'FAILED', error: `workspace: ${detail}` });
    }

    // A new home for every attempt: whatever an earlier attempt's agent left in its home (a link
    // where the runner writes, a settings file) is gone before anything is written there.
    const homeDir = path.join(this.config.RUNNER_HOME_ROOT, `${task.id}-${task.attempts}`);
    const configDir = path.join(homeDir, '.claude');
    await rm(homeDir, { recursive: true, force: true });
    await mkdir(homeDir, { recursive: true, mode: 0o700 });
    const sandboxed = this.sandbox.mode === 'bwrap';
    // Where the CLI sees its home and workspace: fixed paths inside the sandbox.
    const seenAs = sandboxed
      ? { home: SANDBOX_HOME, workspace: SANDBOX_WORKSPACE }
      : { home: homeDir, workspace: prepared.dir };
    if (profile.provider === 'claude')
      await prepareClaudeHome({
        configDir,
        workspace: prepared.dir,
        workspaceSeenAs: seenAs.workspace,
        agents: profile.agents,
        skills: profile.skills,
        repositoryLoaded: profile.trustRepositorySettings,
      });
    const resumeSessionId = await this.sessions.restore(attempt, configDir);

    const kept: AgentEvent[] = [];
    const stderrTail: string[] = [];
    const record = (event: AgentEvent) => {
      if (event.type === 'system.init' || event.type === 'result') kept.push(event);
      this.metrics.events.inc({ type: event.type });
      attempt.record(event);
    };

    const maxOutputBytes = profile.maxOutputBytes ?? this.config.RUNNER_MAX_OUTPUT_BYTES;
    let exit: RunExit;
    let access: AgentAccess | undefined;
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
      const adapter = agentAdapterFor(profile.provider);
      access = await this.access.open(task, task.attempts, profile.provider, sandboxed);
      // Written once the attempt has its credential: Hangar's MCP server is reached with it.
      const mcpConfig = await writeMcpConfig(
        homeDir,
        profile,
        delegates(profile) || asksApproval(profile) ? { url: access.mcpUrl, token: access.token } : undefined,
      );
      const binaryPath =
        this.config.CLAUDE_BIN && profile.provider === 'claude' ? this.config.CLAUDE_BIN : undefined;
      const spec: AgentRunSpec = {
        prompt: task.prompt,
        homeDir: seenAs.home,
        baseUrl: access.modelBaseUrl,
        apiKey: access.token,
        ...(access.proxyUrl ? { env: proxyEnvironment(access.proxyUrl, access.modelBaseUrl) } : {}),
        ...(binaryPath ? { binaryPath } : {}),
        ...profileOptions(profile),
        ...(mcpConfig ? { mcpConfigPath: path.join(seenAs.home, MCP_CONFIG_FILE) } : {}),
        ...(resumeSessionId ? { resumeSessionId } : {}),
        // A workflow step's structured output: the result's text is the JSON the engine checks.
        ...(task.outputSchema ? { outputSchema: task.outputSchema } : {}),
        sandboxed,
        trustRepositorySettings: profile.trustRepositorySettings,
      };
      for (const { option, reason } of ignoredRunOptions(adapter, spec)) {
        record({
          type: 'stderr',
          data: { line: `hangar: ${profile.provider} ignores the profile's ${option}: ${reason}` },
        });
      }
      let invocation: AgentInvocation = adapter.buildInvocation(spec);
      if (sandboxed) {
        invocation = this.sandbox.wrap(invocation, {
          workspace: prepared.dir,
          // A profile that only plans gets a workspace it cannot change, whatever the CLI.
          workspaceReadOnly: profile.permissionMode === 'plan',
          home: homeDir,
          ...(this.sandbox.runnerSocket ? { runnerSocket: this.sandbox.runnerSocket } : {}),
          readOnlyPaths: agentRuntimePaths(profile.provider, binaryPath),
          hiddenWorkspacePaths: profile.trustRepositorySettings ? [] : adapter.repositoryConfigPaths,
        });
      }
      const handle = await spawnAgent(invocation, {
        parser: adapter.createParser({ maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES }),
        cwd: prepared.dir,
        timeoutMs: task.timeoutSeconds * 1000,
        maxOutputBytes,
        maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES,
        nice: this.config.RUNNER_AGENT_NICE,
        onEvent: record,
        // Time its tool calls wait for people does not count against the task's timeout.
        ...(asksApproval(profile) ? { waitedMs: () => attempt.approvalWaitMs() } : {}),
        // spawnAgent records each line as a stderr event already; the tail names a failure.
        onStderrLine: (line) => {
          stderrTail.push(line);
          if (stderrTail.length > 5) stderrTail.shift();
        },
      });
      this.running.set(task.id, handle);
      const stopAsked = this.stopReasons.get(task.id);
      if (stopAsked) handle.cancel(stopAsked);
      const agentExit = await handle.done;
      exit = {
        ...agentExit,
        reason:
          agentExit.reason === 'cancelled'
            ? (this.stopReasons.get(task.id) ?? 'cancelled')
            : agentExit.reason,
      };
    } catch (error) {
      exit = {
        exitCode: null,
        signal: null,
        reason: 'spawn-failed',
        message: error instanceof Error ? error.message : String(error),
      };
    } finally {
      this.running.delete(task.id);
      this.metrics.running.dec();
      // Nothing of this attempt's may reach the runner any more.
      await access?.release();
    }
    await attempt.flushEvents();

    // Not the task's fault: give it back to the queue for another runner.
    if (exit.reason === 'shutdown') return attempt.requeue();
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
    await rm(homeDir, { recursive: true, force: true });
    return attempt.finish(outcome);
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

// The way out of the sandbox or task pod for the agent's tools (git, package managers, curl): the
// runner's egress proxy. The model API, on the runner too, is reached directly.
function proxyEnvironment(proxyUrl: string, modelBaseUrl: string): Record<string, string> {
  const noProxy = [...new Set(['127.0.0.1', 'localhost', new URL(modelBaseUrl).hostname])].join(',');
  return {
    HTTPS_PROXY: proxyUrl,
    HTTP_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

// Whether the run gets Hangar's MCP server: only Claude Code reads the --mcp-config Hangar writes.
function delegates(profile: AgentProfile): boolean {
  return profile.delegation.enabled && profile.provider === 'claude';
}

// Whether some of the run's tool calls wait for a person: Claude Code asks Hangar's permission
// prompt tool for them (docs/governance.md); profiles of other CLIs cannot have approvals.
function asksApproval(profile: AgentProfile): boolean {
  return profile.approvals.tools.length > 0 && profile.provider === 'claude';
}

const PERMISSION_PROMPT_TOOL = `mcp__${HANGAR_MCP_SERVER}__${APPROVAL_TOOL}`;

// What a profile asks of the CLI; unset fields leave the CLI's defaults.
function profileOptions(profile: AgentProfile) {
  // Headless, a tool the permission mode does not allow is refused: Hangar's own tools are
  // allowed wherever the profile delegates (Claude Code only: docs/delegation.md).
  const allowedTools = delegates(profile)
    ? [...profile.allowedTools, `mcp__${HANGAR_MCP_SERVER}`]
    : profile.allowedTools;
  // The permission prompt tool is the CLI's to call, never the model's.
  const disallowedTools = asksApproval(profile)
    ? [...profile.disallowedTools, PERMISSION_PROMPT_TOOL]
    : profile.disallowedTools;
  return {
    ...(profile.model ? { model: profile.model } : {}),
    ...(profile.permissionMode ? { permissionMode: profile.permissionMode as AgentPermissionMode } : {}),
    ...(profile.maxTurns ? { maxTurns: profile.maxTurns } : {}),
    ...(profile.appendSystemPrompt ? { appendSystemPrompt: profile.appendSystemPrompt } : {}),
    ...(allowedTools.length > 0 ? { allowedTools } : {}),
    ...(disallowedTools.length > 0 ? { disallowedTools } : {}),
    ...(asksApproval(profile)
      ? { approvals: { patterns: profile.approvals.tools, promptTool: PERMISSION_PROMPT_TOOL } }
      : {}),
  };
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
