import {
  SOCKET_NAMESPACE,
  type ResyncMessage,
  type SubscribeAck,
  type SubscribeRequest,
  SocketEvents,
  TERMINAL_STATUSES,
  type TaskEvent,
  TaskEventSchema,
  type TaskStatus,
  type TopicEventsMessage,
} from '@hangar/contracts';
import { io, type Socket } from 'socket.io-client';

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

export class SubscribeFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SubscribeFailed';
  }
}

export class FollowAborted extends Error {
  constructor() {
    super('stopped following');
    this.name = 'FollowAborted';
  }
}

// Streams a task's events in order until its terminal `task.status`. After a reconnect it
// subscribes again from the last sequence number seen, and drops anything it already has.
export function followTaskEvents(
  options: FollowTaskOptions,
): Promise<{ status: TaskStatus; lastSeq: number }> {
  const { taskId } = options;
  let lastSeq = options.afterSeq ?? 0;
  const topic = `task:${taskId}` as const;
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
    const onAbort = (): void => finish(() => reject(new FollowAborted()));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);

    const subscribe = () => {
      const request: SubscribeRequest = { topic, afterSeq: lastSeq };
      socket
        .timeout(options.ackTimeoutMs ?? 10_000)
        .emit(SocketEvents.subscribe, request, (error: Error | null, ack: SubscribeAck | undefined) => {
          if (error || !ack) {
            finish(() =>
              reject(
                new SubscribeFailed('TIMEOUT', `websocket-pool did not answer the subscription in time`),
              ),
            );
          } else if (!ack.ok) {
            finish(() => reject(new SubscribeFailed(ack.error.code, ack.error.message)));
          }
        });
    };
    socket.on('connect', subscribe);
    // Fell behind: subscribe again from the last event seen.
    socket.on(SocketEvents.resync, (message: ResyncMessage) => {
      if (message.topic === topic) subscribe();
    });
    // The replica is going away: reconnect (through the load balancer, to another).
    socket.on(SocketEvents.drain, () => {
      options.onNotice(`websocket-pool is draining; reconnecting after seq ${lastSeq}`);
      socket.disconnect();
      socket.connect();
    });

    socket.on(SocketEvents.events, (message: Partial<TopicEventsMessage>) => {
      if (message.topic !== topic || !Array.isArray(message.events)) return;
      for (const payload of message.events) {
        const event = toTaskEvent({ ...(payload as object), taskId });
        if (!event || event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        options.onEvent(event);
        if (event.type === 'task.status' && TERMINAL_STATUSES.includes(event.data.status)) {
          const status = event.data.status;
          finish(() => resolve({ status, lastSeq }));
          return;
        }
      }
    });

    socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      // A refused token will not get better by retrying.
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
