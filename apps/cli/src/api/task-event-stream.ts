import { TERMINAL_STATUSES, type TaskEvent, TaskEventSchema, type TaskStatus } from '@hangar/contracts';
import { followTopic } from './topic-follower';

// Kept importable from here: the commands catch these from either stream.
export { FollowAborted, SubscribeFailed } from './topic-follower';

export interface FollowTaskOptions {
  wsUrl: string;
  // Sent in the Socket.IO handshake (auth.token).
  token?: string | undefined;
  taskId: string;
  afterSeq?: number;
  onEvent(event: TaskEvent): void;
  onNotice(message: string): void;
  signal?: AbortSignal;
  ackTimeoutMs?: number;
}

// Streams a task's events in order until its terminal `task.status`. After a reconnect it
// subscribes again from the last sequence number seen, and drops anything it already has.
export function followTaskEvents(
  options: FollowTaskOptions,
): Promise<{ status: TaskStatus; lastSeq: number }> {
  const { taskId } = options;
  return followTopic({
    wsUrl: options.wsUrl,
    token: options.token,
    signal: options.signal,
    ackTimeoutMs: options.ackTimeoutMs,
    afterSeq: options.afterSeq,
    onNotice: (message) => options.onNotice(message),
    topic: `task:${taskId}`,
    onEvent: (payload, follow) => {
      // Entries on a task topic leave out the taskId: the topic names it.
      const event = toTaskEvent({ ...payload, taskId });
      if (!event) return;
      options.onEvent(event);
      if (event.type === 'task.status' && TERMINAL_STATUSES.includes(event.data.status)) {
        follow.stop({ status: event.data.status, lastSeq: follow.lastSeq });
      }
    },
  });
}

// A payload that fails the shared schema is still shown, as an `unknown` event, rather than lost.
export function toTaskEvent(payload: unknown): TaskEvent | undefined {
  const parsed = TaskEventSchema.safeParse(payload);
  if (parsed.success) return parsed.data;
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { taskId, seq, at } = payload as { taskId?: unknown; seq?: unknown; at?: unknown };
  if (typeof taskId !== 'string' || typeof seq !== 'number') return undefined;
  return {
    taskId,
    seq,
    at: typeof at === 'string' ? at : new Date().toISOString(),
    type: 'unknown',
    data: { raw: payload },
  };
}
