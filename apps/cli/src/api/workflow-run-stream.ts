import {
  SOCKET_NAMESPACE,
  type ResyncMessage,
  type SubscribeAck,
  type SubscribeRequest,
  SocketEvents,
  type TopicEventsMessage,
  type WorkflowRunActivity,
  WorkflowRunActivitySchema,
  type WorkflowRunStatus,
} from '@hangar/contracts';
import { io, type Socket } from 'socket.io-client';
import { FollowAborted, SubscribeFailed } from './task-event-stream';

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
  const topic = `workflow-run:${options.runId}` as const;
  let lastSeq = 0;
  const socket: Socket = io(`${options.wsUrl.replace(/\/+$/, '')}${SOCKET_NAMESPACE}`, {
    transports: ['websocket'],
    ...(options.token !== undefined ? { auth: { token: options.token } } : {}),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
    timeout: 10_000,
  });

  return new Promise((resolve, reject) => {
    let settled = false;
    let warnedConnect = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.close();
      action();
    };
    const ended = (status: WorkflowRunStatus): void => {
      if (status !== 'RUNNING') finish(() => resolve({ status }));
    };
    const onAbort = (): void => finish(() => reject(new FollowAborted()));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);

    const subscribe = () => {
      const request: SubscribeRequest = { topic, afterSeq: lastSeq };
      socket
        .timeout(options.ackTimeoutMs ?? 10_000)
        .emit(SocketEvents.subscribe, request, (error: Error | null, ack: SubscribeAck | undefined) => {
          if (settled) return;
          if (error || !ack) {
            finish(() =>
              reject(
                new SubscribeFailed('TIMEOUT', 'websocket-pool did not answer the subscription in time'),
              ),
            );
          } else if (!ack.ok) {
            finish(() => reject(new SubscribeFailed(ack.error.code, ack.error.message)));
          } else {
            options
              .refresh()
              .then(ended, (refreshError: unknown) =>
                options.onNotice(
                  `cannot read workflow run ${options.runId} (${refreshError instanceof Error ? refreshError.message : String(refreshError)}); following its topic`,
                ),
              );
          }
        });
    };
    socket.on('connect', subscribe);
    // Fell behind (subscribe again from the last event seen), or the history asked for is gone
    // (subscribe from where it begins; the refresh after the subscription reads what was missed).
    socket.on(SocketEvents.resync, (message: ResyncMessage) => {
      if (message.topic !== topic) return;
      if (message.reload) lastSeq = message.afterSeq;
      subscribe();
    });
    socket.on(SocketEvents.drain, () => {
      options.onNotice(`websocket-pool is draining; reconnecting after seq ${lastSeq}`);
      socket.disconnect();
      socket.connect();
    });

    socket.on(SocketEvents.events, (message: Partial<TopicEventsMessage>) => {
      if (message.topic !== topic || !Array.isArray(message.events)) return;
      for (const entry of message.events) {
        if (typeof entry.seq !== 'number' || entry.seq <= lastSeq) continue;
        lastSeq = entry.seq;
        // Something this CLI does not know yet is skipped: the run's state comes back on refresh.
        const parsed = WorkflowRunActivitySchema.safeParse({ type: entry.type, data: entry.data });
        if (!parsed.success) continue;
        options.onActivity(parsed.data);
        if (parsed.data.type === 'run.status') {
          ended(parsed.data.data.status);
          if (settled) return;
        }
      }
    });

    socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (error.data?.code === 'UNAUTHENTICATED') {
        finish(() => reject(new SubscribeFailed('UNAUTHENTICATED', `websocket-pool: ${error.message}`)));
        return;
      }
      if (warnedConnect) return;
      warnedConnect = true;
      options.onNotice(`cannot connect to websocket-pool at ${options.wsUrl} (${error.message}); retrying…`);
    });

    socket.on('disconnect', (reason: string) => {
      if (settled) return;
      warnedConnect = false;
      options.onNotice(`connection lost (${reason}); resubscribing after seq ${lastSeq}`);
    });
  });
}
