import {
  SOCKET_NAMESPACE,
  type ResyncMessage,
  type SubscribeAck,
  type SubscribeRequest,
  SocketEvents,
  type Topic,
  type TopicEvent,
  type TopicEventsMessage,
} from '@hangar/contracts';
import { io, type Socket } from 'socket.io-client';

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

// What a follower's callbacks get: the last sequence number seen, and a way to end the follow.
export interface TopicFollow<Result> {
  readonly lastSeq: number;
  // Resolves the follow with `result` and closes the socket; a no-op once it has ended.
  stop(result: Result): void;
}

export interface TopicFollowerOptions<Result> {
  wsUrl: string;
  // Sent in the Socket.IO handshake (auth.token).
  token?: string | undefined;
  topic: Topic;
  afterSeq?: number | undefined;
  // Each event of the topic not seen yet, in order, once (its seq is above every seq before it).
  onEvent(event: TopicEvent, follow: TopicFollow<Result>): void;
  // Each time websocket-pool accepts the subscription: first, after a reconnect, after a resync.
  onSubscribed?(follow: TopicFollow<Result>): void;
  // When the history asked for is gone (`resync` with `reload`): true to subscribe from where it
  // begins (the caller reads what was missed in onSubscribed), false to ask again from lastSeq.
  skipMissedOnReload?: boolean;
  onNotice(message: string): void;
  signal?: AbortSignal | undefined;
  ackTimeoutMs?: number | undefined;
}

// Subscribes to one topic of websocket-pool and hands its events over in order until a callback
// stops it, the signal aborts it, or the subscription is refused. After a reconnect, a resync or
// a drain it subscribes again from the last sequence number seen and drops what it already has.
export function followTopic<Result>(options: TopicFollowerOptions<Result>): Promise<Result> {
  const { topic } = options;
  let lastSeq = options.afterSeq ?? 0;
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
    const follow: TopicFollow<Result> = {
      get lastSeq() {
        return lastSeq;
      },
      stop: (result) => finish(() => resolve(result)),
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
            options.onSubscribed?.(follow);
          }
        });
    };
    socket.on('connect', subscribe);
    // Fell behind: subscribe again from the last event seen (or, when the history is gone and the
    // caller can read what it missed, from where the history begins).
    socket.on(SocketEvents.resync, (message: ResyncMessage) => {
      if (message.topic !== topic) return;
      if (message.reload && options.skipMissedOnReload) lastSeq = message.afterSeq;
      subscribe();
    });
    // The replica is going away: reconnect (through the load balancer, to another).
    socket.on(SocketEvents.drain, () => {
      options.onNotice(`websocket-pool is draining; reconnecting after seq ${lastSeq}`);
      socket.disconnect();
      socket.connect();
    });

    socket.on(SocketEvents.events, (message: Partial<TopicEventsMessage>) => {
      if (message.topic !== topic || !Array.isArray(message.events)) return;
      for (const entry of message.events as unknown[]) {
        if (typeof entry !== 'object' || entry === null) continue;
        const event = entry as TopicEvent;
        if (typeof event.seq !== 'number' || event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        options.onEvent(event, follow);
        if (settled) return;
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
