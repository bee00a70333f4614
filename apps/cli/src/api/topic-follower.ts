import type { Topic, TopicEvent } from '@hangar/contracts';
import { TopicConnection, type TopicSubscription } from '@hangar/topics';

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
// stops it, the signal aborts it, or the subscription is refused — on a connection of its own,
// through the one topic client (@hangar/topics): after a reconnect, a resync or a drain it
// subscribes again from the last sequence number seen and drops what it already has.
export function followTopic<Result>(options: TopicFollowerOptions<Result>): Promise<Result> {
  let settled = false;
  let warnedConnect = false;
  let subscription: TopicSubscription | undefined;
  const lastSeq = () => subscription?.lastSeq ?? options.afterSeq ?? 0;
  const connection = new TopicConnection({
    url: options.wsUrl,
    token: options.token,
    reconnectionDelayMs: 500,
    reconnectionDelayMaxMs: 5_000,
    timeoutMs: options.ackTimeoutMs ?? 10_000,
    onNotice: (notice) => {
      if (settled) return;
      if (notice.kind === 'drain')
        options.onNotice(`websocket-pool is draining; reconnecting after seq ${lastSeq()}`);
      else if (notice.kind === 'disconnected') {
        warnedConnect = false;
        options.onNotice(`connection lost (${notice.reason}); resubscribing after seq ${lastSeq()}`);
      } else if (notice.kind === 'connect-failed' && notice.code !== 'UNAUTHENTICATED' && !warnedConnect) {
        warnedConnect = true;
        options.onNotice(
          `cannot connect to websocket-pool at ${options.wsUrl} (${notice.message}); retrying…`,
        );
      }
    },
  });

  return new Promise((resolve, reject) => {
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      connection.close();
      action();
    };
    const follow: TopicFollow<Result> = {
      get lastSeq() {
        return lastSeq();
      },
      stop: (result) => finish(() => resolve(result)),
    };
    const onAbort = (): void => finish(() => reject(new FollowAborted()));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);

    subscription = connection.follow(options.topic, {
      afterSeq: options.afterSeq,
      onEvents: (events) => {
        for (const event of events) {
          options.onEvent(event, follow);
          if (settled) return;
        }
      },
      onSubscribed: () => options.onSubscribed?.(follow),
      onState: (state, _subscription, refusal) => {
        if (state === 'refused' && refusal)
          finish(() => reject(new SubscribeFailed(refusal.code, refusal.message)));
      },
      // Fell behind with the history gone: subscribe from where it begins when the caller reads
      // what it missed (in onSubscribed), else ask again from the last event seen.
      ...(options.skipMissedOnReload ? { onReload: () => undefined } : {}),
    });
  });
}
