import {
  type WorkflowRunActivity,
  WorkflowRunActivitySchema,
  type WorkflowRunStatus,
} from '@hangar/contracts';
import { followTopic, type TopicFollow } from './topic-follower';

export interface FollowRunOptions {
  wsUrl: string;
  // Sent in the Socket.IO handshake (auth.token).
  token?: string | undefined;
  runId: string;
  onActivity(activity: WorkflowRunActivity): void;
  // Reads the run over REST and shows it; answers its status. Called once each subscription
  // holds (first, after a reconnect, after the topic's history was gone), so nothing that
  // changed before the subscription is missed and a run that had already ended is seen ended.
  refresh(): Promise<WorkflowRunStatus>;
  onNotice(message: string): void;
  signal?: AbortSignal;
  ackTimeoutMs?: number;
}

// Watches `workflow-run:<id>` until the run ends: a terminal `run.status` on the topic, or a
// terminal status read by `refresh`. Steps are state, not a log, so the backlog replayed on
// subscribe and a refresh may tell the same change twice: the caller keeps the newest.
export function followWorkflowRun(options: FollowRunOptions): Promise<{ status: WorkflowRunStatus }> {
  const { runId } = options;
  const ended = (follow: TopicFollow<{ status: WorkflowRunStatus }>, status: WorkflowRunStatus): void => {
    if (status !== 'RUNNING') follow.stop({ status });
  };
  return followTopic({
    wsUrl: options.wsUrl,
    token: options.token,
    signal: options.signal,
    ackTimeoutMs: options.ackTimeoutMs,
    onNotice: (message) => options.onNotice(message),
    topic: `workflow-run:${runId}`,
    // The history asked for is gone: subscribe from where it begins; the refresh after the
    // subscription reads what was missed.
    skipMissedOnReload: true,
    onSubscribed: (follow) => {
      options.refresh().then(
        (status) => ended(follow, status),
        (refreshError: unknown) =>
          options.onNotice(
            `cannot read workflow run ${runId} (${refreshError instanceof Error ? refreshError.message : String(refreshError)}); following its topic`,
          ),
      );
    },
    onEvent: (entry, follow) => {
      // Something this CLI does not know yet is skipped: the run's state comes back on refresh.
      const parsed = WorkflowRunActivitySchema.safeParse({ type: entry.type, data: entry.data });
      if (!parsed.success) return;
      options.onActivity(parsed.data);
      if (parsed.data.type === 'run.status') ended(follow, parsed.data.data.status);
    },
  });
}
