import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AgentEvent, AgentProfile, Task, TaskApiDiffRequest, TaskSandbox } from '@hangar/contracts';
import {
  ApprovalRepository,
  AttemptTokenRepository,
  ConversationRepository,
  ProfileRepository,
  ProjectGitHostRepository,
  TaskDiffRepository,
  TaskRepository,
} from '@hangar/db';
import { TaskActivity, TaskLifecycle } from '@hangar/platform';
import type { TaskEventLog } from '@hangar/redis';
import { gitHostPolicy } from '@hangar/workspaces';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import {
  RUNNER_SHUTDOWN_REASON,
  type AttemptBackend,
  type AttemptOutcome,
  type ClaimedAttempt,
  type GitAccess,
  type StoredSession,
} from './attempt-backend';
import { ModelCallLedger } from './model-call-ledger';

// An attempt's work (its events, workspace, session, diff; its state through the TaskLifecycle): what the runner's own runs use, and
// what the task API answers task pods with, under the pod's runner id (its Job's name).
@Injectable()
export class LocalAttempts {
  constructor(
    readonly lifecycle: TaskLifecycle,
    // Reads only (the task API checks a pod's attempt with it).
    readonly tasks: TaskRepository,
    readonly activity: TaskActivity,
    readonly profiles: ProfileRepository,
    readonly conversations: ConversationRepository,
    readonly diffs: TaskDiffRepository,
    readonly gitHosts: ProjectGitHostRepository,
    readonly tokens: AttemptTokenRepository,
    readonly approvals: ApprovalRepository,
    readonly modelCalls: ModelCallLedger,
    @Inject(AGENT_RUNNER_CONFIG) readonly config: AgentRunnerConfig,
  ) {}

  async claim(
    taskId: string,
    attempt: number,
    runnerId: string,
    claim: { workspace: string; sandbox: TaskSandbox },
  ): Promise<LocalAttempt | null> {
    // The profile is read beside the claim, not after it: a claimed run needs it next (a claim
    // refused wastes one read).
    const profile = this.profiles.ofTask(taskId);
    profile.catch(() => undefined);
    const claimed = await this.lifecycle.claim(taskId, attempt, runnerId, claim);
    return claimed
      ? new LocalAttempt(claimed.task, runnerId, claimed.log, this, { profile, announced: claimed.announced })
      : null;
  }

  // An attempt already claimed by `runnerId`, as its task is now.
  async attach(task: Task, runnerId: string): Promise<LocalAttempt> {
    return new LocalAttempt(task, runnerId, await this.lifecycle.freshLog(task), this);
  }

  heartbeat(runnerId: string, taskIds: string[]): Promise<string[]> {
    return this.lifecycle.heartbeat(runnerId, taskIds);
  }
}

const logger = new Logger('LocalAttempt');

export class LocalAttempt implements ClaimedAttempt {
  // Appends are chained so events keep the order they were recorded in, after the claim's own.
  private appended: Promise<unknown>;
  // Recorded, waiting for the append under way (recordAll).
  private queued: AgentEvent[] = [];
  readonly announced: Promise<void>;
  // As read when the attempt was claimed.
  private readonly claimedProfile: Promise<AgentProfile> | undefined;

  constructor(
    readonly task: Task,
    private readonly runnerId: string,
    private readonly log: TaskEventLog,
    private readonly store: LocalAttempts,
    claimed: { profile?: Promise<AgentProfile>; announced?: Promise<void> } = {},
  ) {
    this.claimedProfile = claimed.profile;
    this.announced = claimed.announced ?? Promise.resolve();
    this.appended = this.announced.catch(() => undefined);
  }

  profile(): Promise<AgentProfile> {
    return this.claimedProfile ?? this.store.profiles.ofTask(this.task.id);
  }

  // The project's git hosts as they are now (or the installation's), and the runner's own git
  // settings.
  async gitAccess(): Promise<GitAccess> {
    const { config } = this.store;
    const hosts = gitHostPolicy(await this.store.gitHosts.listForSlug(this.task.project), {
      allowedHosts: config.GIT_ALLOWED_HOSTS,
      credentials: config.GIT_CREDENTIALS,
    });
    return {
      hosts,
      allowedLocalRoots: config.WORKSPACE_ALLOWED_LOCAL_ROOTS,
      sshKeyPath: config.GIT_SSH_KEY_PATH,
    };
  }

  record(event: AgentEvent): void {
    this.recordAll([event]);
  }

  // A batch (a task pod's) in one append: one round trip to Redis, numbered together. So are the
  // events recorded while an earlier append is under way (a CLI's lines that come together): they
  // wait for it anyway, then go in one.
  recordAll(events: AgentEvent[]): void {
    // An append is scheduled and has not begun: it takes these too.
    const scheduled = this.queued.length > 0;
    this.queued.push(...events);
    if (scheduled) return;
    const appending = this.appended.then(
      () => {
        const batch = this.queued;
        this.queued = [];
        return this.log.append(batch);
      },
      // After a failed append nothing more is appended (flushEvents reports it): none is kept.
      (error: unknown) => {
        this.queued = [];
        throw error;
      },
    );
    // A failed append is reported by flushEvents, not as an unhandled rejection meanwhile.
    appending.catch(() => undefined);
    this.appended = appending;
  }

  async flushEvents(): Promise<void> {
    await this.appended;
    await this.log.flush();
  }

  async recordWorkspace(workspace: { dir: string; branch: string | null; baseCommit: string | null }) {
    await this.store.lifecycle.recordWorkspace(this.task.id, this.runnerId, workspace);
    // A conversation keeps the folder of its first turn.
    if (this.task.conversationId)
      await this.store.conversations.setWorkspace(this.task.conversationId, workspace.dir);
  }

  async loadSession(): Promise<StoredSession | null> {
    if (!this.task.conversationId) return null;
    return this.store.conversations.loadSession(this.task.conversationId);
  }

  async saveSession(session: StoredSession): Promise<void> {
    await this.store.conversations.saveSession(this.conversationId(), session);
  }

  async saveDiff(diff: TaskApiDiffRequest): Promise<void> {
    await this.store.diffs.save({ taskId: this.task.id, ...diff });
  }

  async markPushed(): Promise<void> {
    await this.store.lifecycle.markPushed(this.task.id);
  }

  approvalWaitMs(): Promise<number> {
    return this.store.approvals.waitedMs(this.task.id, this.task.attempts);
  }

  async addAnswer(content: string): Promise<void> {
    const answer = await this.store.conversations.addMessage({
      conversationId: this.conversationId(),
      role: 'assistant',
      content,
      taskId: this.task.id,
    });
    await this.store.activity.messageAdded(answer);
  }

  async finish(outcome: AttemptOutcome, options: { agentExiting?: boolean } = {}): Promise<Task | null> {
    await this.flushEvents();
    // Its model calls are all stored before it is told finished (its usage is then whole).
    await this.store.modelCalls.settled(this.task.id, this.task.attempts);
    // A call the model gateway refused (a budget spent) fails it, with that reason.
    const refused = this.store.modelCalls.ended(this.task.id, this.task.attempts);
    const ended: AttemptOutcome = refused ? { ...outcome, status: 'FAILED', error: refused } : outcome;
    const finished = await this.store.lifecycle.finish(this.task.id, this.runnerId, ended, this.log);
    if (!finished)
      logger.warn(
        `task ${this.task.id} was taken from ${this.runnerId} before it finished; its outcome is dropped`,
      );
    if (!options.agentExiting) await this.end();
    return finished;
  }

  async requeue(): Promise<Task | null> {
    await this.flushEvents();
    const requeued = await this.store.lifecycle.requeue(
      this.task.id,
      this.runnerId,
      RUNNER_SHUTDOWN_REASON,
      this.log,
    );
    await this.end();
    return requeued;
  }

  private conversationId(): string {
    if (!this.task.conversationId) throw new NotAConversationTurn(this.task.id);
    return this.task.conversationId;
  }

  // Nothing of this attempt's may reach the runner any more.
  private async end() {
    await this.store.tokens.revoke(this.task.id, this.task.attempts);
  }
}

// A conversation's session or answer, asked of a task outside any conversation.
export class NotAConversationTurn extends Error {
  constructor(taskId: string) {
    super(`task ${taskId} is not a conversation's turn`);
  }
}

// The runner's own attempts, under its RUNNER_ID.
@Injectable()
export class LocalAttemptBackend implements AttemptBackend {
  constructor(
    private readonly attempts: LocalAttempts,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  claim(taskId: string, attempt: number, claim: { workspace: string; sandbox: TaskSandbox }) {
    return this.attempts.claim(taskId, attempt, this.config.RUNNER_ID, claim);
  }

  heartbeat(attempts: readonly ClaimedAttempt[]): Promise<string[]> {
    return this.attempts.heartbeat(
      this.config.RUNNER_ID,
      attempts.map((attempt) => attempt.task.id),
    );
  }
}
