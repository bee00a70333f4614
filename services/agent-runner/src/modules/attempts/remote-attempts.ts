import { Inject, Injectable } from '@nestjs/common';
import {
  TASK_API_EVENT_BATCH_BYTES,
  TASK_API_MAX_EVENTS,
  TaskApiApprovalWaitSchema,
  TaskApiClaimSchema,
  TaskApiFinishedSchema,
  TaskApiHeartbeatSchema,
  TaskApiSessionAnswerSchema,
  type AgentEvent,
  type AgentProfile,
  type Task,
  type TaskApiClaim,
  type TaskApiDiffRequest,
  type TaskSandbox,
} from '@hangar/contracts';
import { gitHostPolicy } from '@hangar/workspaces';
import type {
  AttemptBackend,
  AttemptOutcome,
  ClaimedAttempt,
  GitAccess,
  StoredSession,
} from './attempt-backend';
import { TaskApiClient, TaskApiError } from './task-api.client';

export const TASK_API_CLIENT = Symbol('TASK_API_CLIENT');

// run-task.js in a task pod: its attempt's state is kept by the runner, through the task API
// and the pod's token. The pod holds no database or Redis credential.
@Injectable()
export class RemoteAttemptBackend implements AttemptBackend {
  constructor(@Inject(TASK_API_CLIENT) private readonly client: TaskApiClient) {}

  async claim(
    taskId: string,
    attempt: number,
    claim: { workspace: string; sandbox: TaskSandbox },
  ): Promise<ClaimedAttempt | null> {
    try {
      // The token names the attempt; the Job's command names it too, and the runner checks both.
      const answer = await this.client.call(
        'claim',
        { taskId, attempt, workspace: claim.workspace },
        TaskApiClaimSchema,
      );
      return new RemoteAttempt(answer, this.client);
    } catch (error) {
      if (error instanceof TaskApiError && error.attemptOver) return null;
      throw error;
    }
  }

  async heartbeat(attempts: readonly ClaimedAttempt[]): Promise<string[]> {
    const stop: string[] = [];
    for (const attempt of attempts) {
      try {
        const { cancelRequested } = await this.client.call('heartbeat', {}, TaskApiHeartbeatSchema);
        if (cancelRequested) stop.push(attempt.task.id);
      } catch (error) {
        if (!(error instanceof TaskApiError && error.attemptOver)) throw error;
        stop.push(attempt.task.id);
      }
    }
    return stop;
  }
}

export class RemoteAttempt implements ClaimedAttempt {
  readonly task: Task;
  // The runner announced RUNNING before it answered the claim.
  readonly announced = Promise.resolve();
  // Recorded events not sent yet; one batch in flight at a time, so they arrive in order.
  private queue: AgentEvent[] = [];
  private sending: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly claimed: TaskApiClaim,
    private readonly client: TaskApiClient,
  ) {
    this.task = claimed.task;
  }

  profile(): Promise<AgentProfile> {
    return Promise.resolve(this.claimed.profile);
  }

  // Only the task's repository host, with the credential the runner offers it; no local roots
  // and no SSH key in a pod.
  gitAccess(): Promise<GitAccess> {
    const { git } = this.claimed;
    const hosts = gitHostPolicy(git ? [{ host: git.host, credential: git.credential }] : [], {
      allowedHosts: [],
    });
    return Promise.resolve({ hosts, allowedLocalRoots: [] });
  }

  record(event: AgentEvent): void {
    this.queue.push(event);
    if (this.sending || this.failure !== undefined) return;
    this.sending = this.send();
  }

  async flushEvents(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.failure !== undefined) throw this.failure;
  }

  async recordWorkspace({
    dir,
    branch,
    baseCommit,
  }: {
    dir: string;
    branch: string | null;
    baseCommit: string | null;
  }) {
    // These fields only: the caller's workspace may say more (its fingerprint), which the task
    // API's schema refuses.
    await this.client.call('workspace', { dir, branch, baseCommit });
  }

  async loadSession(): Promise<StoredSession | null> {
    const { session } = await this.client.call('getSession', undefined, TaskApiSessionAnswerSchema);
    if (!session) return null;
    return { ...session, transcript: Buffer.from(session.transcript, 'base64') };
  }

  async saveSession(session: StoredSession): Promise<void> {
    await this.client.call('putSession', { ...session, transcript: session.transcript.toString('base64') });
  }

  async saveDiff(diff: TaskApiDiffRequest): Promise<void> {
    await this.client.call('diff', diff);
  }

  async markPushed(): Promise<void> {
    await this.client.call('pushed', {});
  }

  async approvalWaitMs(): Promise<number> {
    return (await this.client.call('approvalWait', undefined, TaskApiApprovalWaitSchema)).waitedMs;
  }

  async addAnswer(content: string): Promise<void> {
    await this.client.call('answer', { content });
  }

  async finish(outcome: AttemptOutcome): Promise<Task | null> {
    await this.flushEvents();
    return (await this.client.call('finish', outcome, TaskApiFinishedSchema)).task;
  }

  async requeue(): Promise<Task | null> {
    await this.flushEvents();
    return (await this.client.call('requeue', {}, TaskApiFinishedSchema)).task;
  }

  // Sends what is queued, in batches, until nothing is; stops at the first failure (flushEvents
  // reports it). Cleared in the same turn as the last check, so a record() never finds it stale.
  private async send(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = takeBatch(this.queue);
      try {
        await this.client.call('events', { events: batch });
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
        break;
      }
    }
    this.sending = undefined;
  }
}

// The first events of the queue, up to a batch's size (one larger event goes alone).
function takeBatch(queue: AgentEvent[]): AgentEvent[] {
  const batch: AgentEvent[] = [];
  let bytes = 0;
  while (queue.length > 0 && batch.length < TASK_API_MAX_EVENTS) {
    const size = Buffer.byteLength(JSON.stringify(queue[0]));
    if (batch.length > 0 && bytes + size > TASK_API_EVENT_BATCH_BYTES) break;
    batch.push(queue.shift()!);
    bytes += size;
  }
  return batch;
}
