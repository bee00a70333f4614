import type {
  AgentEvent,
  AgentProfile,
  Task,
  TaskApiDiffRequest,
  TaskApiFinishRequest,
  TaskSandbox,
} from '@hangar/contracts';
import type { GitHostPolicy } from '@hangar/workspaces';

// Where a run keeps the state of its attempt: the task's record, its events, its workspace's
// branch, its conversation's session and answer, its diff and its outcome. Two implementations,
// one owner of each piece of state: `LocalAttemptBackend` (the runner: the repositories and
// streams themselves) and `RemoteAttemptBackend` (run-task.js in a task pod: the runner's task
// API, which calls the very same local implementation).
export const ATTEMPT_BACKEND = Symbol('ATTEMPT_BACKEND');

export interface AttemptBackend {
  // Takes the attempt for this process (QUEUED → RUNNING, its `task.status` event and activity);
  // null when the task is not waiting for it.
  claim(
    taskId: string,
    attempt: number,
    claim: { workspace: string; sandbox: TaskSandbox },
  ): Promise<ClaimedAttempt | null>;
  // Keeps the attempts alive for the orchestrator's lost-runner detection; answers the ids of
  // those to stop (a cancel was requested, or the attempt is no longer the task's).
  heartbeat(attempts: readonly ClaimedAttempt[]): Promise<string[]>;
}

// What git may reach for this attempt, and with which credentials.
export interface GitAccess {
  hosts: GitHostPolicy;
  allowedLocalRoots: string[];
  sshKeyPath?: string | undefined;
}

// A conversation's agent session, as stored between turns.
export interface StoredSession {
  sessionId: string;
  // Of the transcript file, under the CLI's config dir.
  relativePath: string;
  transcript: Buffer;
}

export type AttemptOutcome = TaskApiFinishRequest;

// One claimed attempt. Calls after `finish` or `requeue` are refused: the attempt is over.
export interface ClaimedAttempt {
  readonly task: Task;
  // Settles once the claim's RUNNING status is announced (its event, the activity): events
  // recorded meanwhile wait for it; a run starts no agent before it, nor if it failed.
  readonly announced: Promise<void>;
  profile(): Promise<AgentProfile>;
  gitAccess(): Promise<GitAccess>;
  // Appends an event; events keep the order they were recorded in. `flushEvents` waits until
  // every recorded event is stored, and fails if one could not be.
  record(event: AgentEvent): void;
  flushEvents(): Promise<void>;
  recordWorkspace(workspace: {
    dir: string;
    branch: string | null;
    baseCommit: string | null;
  }): Promise<void>;
  loadSession(): Promise<StoredSession | null>;
  saveSession(session: StoredSession): Promise<void>;
  saveDiff(diff: TaskApiDiffRequest): Promise<void>;
  markPushed(): Promise<void>;
  // How long its agent has waited for people (approvals) so far, the wait under way included:
  // not counted against the task's timeout.
  approvalWaitMs(): Promise<number>;
  // The conversation's answer to the turn's message.
  addAnswer(content: string): Promise<void>;
  // The final status, its event and activity, the stream's expiry; the attempt's credential is
  // revoked, unless its agent is still exiting (`agentExiting`: the caller's access.release
  // revokes it once the agent is gone). Null when the attempt was no longer the task's.
  finish(outcome: AttemptOutcome, options?: { agentExiting?: boolean }): Promise<Task | null>;
  // Back to the queue (this process is shutting down); likewise final.
  requeue(): Promise<Task | null>;
}

export const RUNNER_SHUTDOWN_REASON = 'runner-shutdown: the runner stopped before the task finished';
