import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  agentAdapterFor,
  AUTO_SCENARIO,
  ignoredRunOptions,
  processesWorkingIn,
  scriptedModelBaseUrl,
  signalProcesses,
  spawnAgent,
  summarizeResult,
  type AgentHandle,
  type AgentPermissionMode,
  type AgentProvider,
  type AgentRunSpec,
  type AgentExit,
} from '@hangar/agents';
import type { AgentEvent, AgentProfile, Task } from '@hangar/contracts';
import {
  ConversationRepository,
  ProfileRepository,
  TaskEventRepository,
  TaskRepository,
  type RunOutcome,
} from '@hangar/db';
import { TaskActivity } from '@hangar/platform';
import { TaskEventLog, TaskEventStream } from '@hangar/redis';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { AgentSessionStore } from './agent-session-store';
import { placeProfileFiles, writeMcpConfig } from './profile-files';
import { RunnerMetrics } from './runner.metrics';
import { WorkspaceService, type PreparedWorkspace } from './workspace.service';

// Runs one claimed task with the `process` executor: the agent CLI as a child process group
// on this host, its output numbered into the task's event log, its result stored.
@Injectable()
export class TaskRunService {
  private readonly logger = new Logger(TaskRunService.name);
  // Tasks this runner has claimed and not finished (preparing their workspace or running), and
  // the agent of each once it is spawned.
  private readonly active = new Set<string>();
  private readonly running = new Map<string, AgentHandle>();
  // Why this runner stopped a task's agent itself: a cancel request, or its own shutdown. A stop
  // asked for before the agent is spawned applies as soon as it is.
  private readonly stopReasons = new Map<string, 'cancelled' | 'shutdown'>();

  constructor(
    private readonly tasks: TaskRepository,
    private readonly events: TaskEventRepository,
    private readonly stream: TaskEventStream,
    private readonly metrics: RunnerMetrics,
    private readonly profiles: ProfileRepository,
    private readonly conversations: ConversationRepository,
    private readonly sessions: AgentSessionStore,
    private readonly workspaces: WorkspaceService,
    private readonly activity: TaskActivity,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  runningTaskIds(): string[] {
    return [...this.active];
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
    const task = await this.tasks.claim(taskId, this.config.RUNNER_ID, workspace, attempt);
    if (!task) return { claimed: false };
    this.logger.log(`task ${taskId} attempt ${attempt} started`);
    const finished = await this.run(task);
    this.logger.log(`task ${taskId} attempt ${attempt} ended ${finished?.status ?? '(taken over)'}`);
    return { claimed: true, finished };
  }

  async run(task: Task): Promise<Task | null> {
    this.active.add(task.id);
    try {
      return await this.runClaimed(task);
    } finally {
      this.active.delete(task.id);
      this.stopReasons.delete(task.id);
    }
  }

  private async runClaimed(task: Task): Promise<Task | null> {
    const minSeq = Math.max(task.lastSeq, await this.stream.lastSeq(task.id)) + 1;
    const log = new TaskEventLog(task.id, this.stream, this.events, { minSeq });
    await log.append([{ type: 'task.status', data: { status: 'RUNNING' } }]);
    await this.activity.statusChanged(task);

    let prepared: PreparedWorkspace;
    let profile: AgentProfile;
    try {
      profile = await this.profiles.ofTask(task.id);
      prepared = await this.workspaces.prepare(task);
      await this.tasks.recordWorkspace(task.id, this.config.RUNNER_ID, prepared);
      this.reapStrays(task, prepared.dir);
      await placeProfileFiles(prepared.dir, profile);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return this.conclude(task, log, { status: 'FAILED', error: `workspace: ${detail}` });
    }

    const homeDir = path.join(this.config.RUNNER_HOME_ROOT, task.id);
    const configDir = path.join(homeDir, '.claude');
    await mkdir(homeDir, { recursive: true });
    const resumeSessionId = task.conversationId
      ? await this.sessions.restore(task.conversationId, configDir)
      : undefined;
    const mcpConfigPath = await writeMcpConfig(homeDir, profile);

    // Appends are chained so events keep the order the CLI printed them in.
    let appended = Promise.resolve();
    const kept: AgentEvent[] = [];
    const stderrTail: string[] = [];
    const record = (event: AgentEvent) => {
      if (event.type === 'system.init' || event.type === 'result') kept.push(event);
      this.metrics.events.inc({ type: event.type });
      appended = appended.then(async () => {
        await log.append([event]);
      });
    };

    const maxOutputBytes = profile.maxOutputBytes ?? this.config.RUNNER_MAX_OUTPUT_BYTES;
    let exit: RunExit;
    const stopTimer = this.metrics.duration.startTimer();
    this.metrics.running.inc();
    try {
      const adapter = agentAdapterFor(profile.provider);
      const spec: AgentRunSpec = {
        prompt: task.prompt,
        homeDir,
        ...this.modelEndpoint(task, profile.provider),
        ...(this.config.CLAUDE_BIN && profile.provider === 'claude'
          ? { binaryPath: this.config.CLAUDE_BIN }
          : {}),
        ...profileOptions(profile),
        ...(mcpConfigPath ? { mcpConfigPath } : {}),
        ...(resumeSessionId ? { resumeSessionId } : {}),
      };
      for (const { option, reason } of ignoredRunOptions(adapter, spec)) {
        record({
          type: 'stderr',
          data: { line: `hangar: ${profile.provider} ignores the profile's ${option}: ${reason}` },
        });
      }
      const handle = await spawnAgent(adapter.buildInvocation(spec), {
        parser: adapter.createParser({ maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES }),
        cwd: prepared.dir,
        timeoutMs: task.timeoutSeconds * 1000,
        maxOutputBytes,
        maxEventBytes: this.config.RUNNER_MAX_EVENT_BYTES,
        onEvent: record,
        onStderrLine: (line) => {
          stderrTail.push(line);
          if (stderrTail.length > 5) stderrTail.shift();
          record({ type: 'stderr', data: { line } });
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
    }
    await appended;
    await log.flush();

    if (exit.reason === 'shutdown') {
      // Not the task's fault: give it back to the queue for another runner.
      const requeued = await this.tasks.requeue(
        task.id,
        this.config.RUNNER_ID,
        'runner-shutdown: the runner stopped before the task finished',
      );
      if (requeued) await this.finalEvent(log, requeued, requeued.error ?? undefined);
      return requeued;
    }
    const summary = summarizeResult(kept);
    let outcome = toOutcome(task, exit, summary, stderrTail, maxOutputBytes);
    stopTimer({ status: outcome.status });
    this.metrics.finished.inc({ status: outcome.status });

    // What the agent changed (a git workspace), and its branch pushed when asked.
    const delivered = await this.workspaces.deliver(task, prepared, outcome.status === 'COMPLETED');
    if (delivered.error) outcome = { ...outcome, status: 'FAILED', error: delivered.error };
    if (task.conversationId) {
      if (summary.agentSessionId)
        await this.sessions.save(task.conversationId, configDir, summary.agentSessionId);
      const answer = await this.conversations.addMessage({
        conversationId: task.conversationId,
        role: 'assistant',
        content: outcome.result ?? outcome.error ?? '',
        taskId: task.id,
      });
      await this.activity.messageAdded(answer);
    }
    // Everything worth keeping from the run's home (the session transcript) is in Postgres now.
    await rm(homeDir, { recursive: true, force: true });
    return this.conclude(task, log, outcome);
  }

  private async conclude(task: Task, log: TaskEventLog, outcome: RunOutcome): Promise<Task | null> {
    const finished = await this.tasks.finish(task.id, this.config.RUNNER_ID, outcome);
    if (finished) await this.finalEvent(log, finished, outcome.error ?? undefined);
    else
      this.logger.warn(
        `task ${task.id} was taken from this runner before it finished; its outcome is dropped`,
      );
    return finished;
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

  private async finalEvent(log: TaskEventLog, task: Task, reason: string | undefined) {
    await log.append([{ type: 'task.status', data: { status: task.status, ...(reason ? { reason } : {}) } }]);
    await log.flush();
    await this.activity.statusChanged(task, reason);
    if (task.status !== 'QUEUED') await this.stream.expire(task.id, this.config.STREAM_RETENTION_SECONDS);
  }

  private modelEndpoint(task: Task, provider: AgentProvider): { baseUrl?: string; apiKey: string } {
    if (this.config.SCRIPTED_MODEL_URL) {
      // Without a scenario the scripted model looks for a `[scenario: …]` marker in the prompt.
      const scenario = task.scenario ?? AUTO_SCENARIO;
      return {
        baseUrl: scriptedModelBaseUrl(
          this.config.SCRIPTED_MODEL_URL,
          scenario,
          `${task.id}-${task.attempts}`,
          provider,
        ),
        apiKey: 'scripted-model',
      };
    }
    const endpoints: Record<AgentProvider, { baseUrl: string | undefined; apiKey: string | undefined }> = {
      claude: { baseUrl: this.config.ANTHROPIC_BASE_URL, apiKey: this.config.ANTHROPIC_API_KEY },
      codex: { baseUrl: this.config.OPENAI_BASE_URL, apiKey: this.config.OPENAI_API_KEY },
      gemini: { baseUrl: this.config.GEMINI_BASE_URL, apiKey: this.config.GEMINI_API_KEY },
    };
    const { baseUrl, apiKey } = endpoints[provider];
    return { ...(baseUrl ? { baseUrl } : {}), apiKey: apiKey ?? '' };
  }
}

// What a profile asks of the CLI; unset fields leave the CLI's defaults.
function profileOptions(profile: AgentProfile) {
  return {
    ...(profile.model ? { model: profile.model } : {}),
    ...(profile.permissionMode ? { permissionMode: profile.permissionMode as AgentPermissionMode } : {}),
    ...(profile.maxTurns ? { maxTurns: profile.maxTurns } : {}),
    ...(profile.appendSystemPrompt ? { appendSystemPrompt: profile.appendSystemPrompt } : {}),
    ...(profile.allowedTools.length > 0 ? { allowedTools: profile.allowedTools } : {}),
    ...(profile.disallowedTools.length > 0 ? { disallowedTools: profile.disallowedTools } : {}),
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
): RunOutcome {
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
