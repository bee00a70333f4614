import {
  SOCKET_NAMESPACE,
  SocketEvents,
  type ClientToServerEvents,
  type ConnectErrorCode,
  type ResyncMessage,
  type ServerToClientEvents,
  type SubscribeAck,
  type Topic,
  type TopicEvent,
  type TopicEventsMessage,
} from '@hangar/contracts';
import { io, type Socket } from 'socket.io-client';

// The one client of the websocket-pool's topics (docs/realtime.md): the dashboard, the CLI, the
// end-to-end tests and the benchmarks follow topics through it. One Socket.IO connection carries
// any number of topics; each gets every event once, in order — the backlog after its `afterSeq`
// first, then live — across reconnects, drains and resyncs: it subscribes again from the last
// sequence number it handed over and drops what it already has.

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TopicConnectionOptions {
  // The websocket-pool's URL (the namespace is added).
  url: string;
  // Sent in the handshake (auth.token); without one the browser's session cookie is.
  token?: string | undefined;
  reconnectionDelayMs?: number;
  reconnectionDelayMaxMs?: number;
  // For the handshake, and for each subscription's answer.
  timeoutMs?: number;
  // What happens to the connection, for a person to read (the CLI's notices, a test's history).
  onNotice?: (notice: ConnectionNotice) => void;
}

export type ConnectionNotice =
  | { kind: 'connected'; id: string }
  | { kind: 'hello'; replica: string }
  | { kind: 'disconnected'; reason: string }
  // A handshake refused or failed; DRAINING and OVERLOADED are tried again, UNAUTHENTICATED is not.
  | { kind: 'connect-failed'; code: ConnectErrorCode | undefined; message: string }
  | { kind: 'drain'; reason: string }
  | { kind: 'resync'; topic: Topic; afterSeq: number; reload: boolean };

// connecting: asked, not answered yet (also after a reconnect); live: subscribed; offline: the
// connection is down (it comes back by itself); refused: the pool said no (or did not answer in
// time) — the topic is no longer followed.
export type TopicState = 'connecting' | 'live' | 'offline' | 'refused';

export interface Refusal {
  // A SocketErrorCode, UNAUTHENTICATED (the handshake), or TIMEOUT (no answer in time).
  code: string;
  message: string;
}

export interface FollowOptions {
  // The last sequence number the caller has (0, the default: the whole history).
  afterSeq?: number | undefined;
  // Each event not handed over yet, in order, once.
  onEvents(events: TopicEvent[], subscription: TopicSubscription): void;
  onState?(state: TopicState, subscription: TopicSubscription, refusal?: Refusal): void;
  // Each time the pool accepts the subscription (first, after a reconnect, after a resync), with
  // its answer: the topic and the sequence number it starts after.
  onSubscribed?(answer: { topic: Topic; afterSeq: number }, subscription: TopicSubscription): void;
  // The history asked for is gone (a resync with `reload`): the topic goes on from where it now
  // begins, and the caller reads what it missed (over REST). Without it, the topic is asked
  // again from the last sequence number handed over.
  onReload?(fromSeq: number, subscription: TopicSubscription): void;
  // An event at or below the last one handed over (the protocol promises none): dropped, and told.
  onRepeat?(event: TopicEvent, lastSeq: number): void;
}

export interface TopicSubscription {
  readonly topic: Topic;
  readonly lastSeq: number;
  readonly state: TopicState;
  // Stops following (and tells the pool, when connected). Idempotent.
  close(): void;
}

const RETRIED_AT_HANDSHAKE: readonly (string | undefined)[] = ['DRAINING', 'OVERLOADED'];

export class TopicConnection {
  readonly socket: LiveSocket;
  private readonly follows = new Map<Topic, Follow>();
  private readonly timeoutMs: number;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  // The handshake's refusal of the caller: every topic followed since is refused with it too.
  private unauthenticated: Refusal | undefined;

  constructor(private readonly options: TopicConnectionOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.socket = io(`${options.url.replace(/\/+$/, '')}${SOCKET_NAMESPACE}`, {
      transports: ['websocket'],
      ...(options.token !== undefined ? { auth: { token: options.token } } : { withCredentials: true }),
      reconnectionDelay: options.reconnectionDelayMs ?? 500,
      reconnectionDelayMax: options.reconnectionDelayMaxMs ?? 5_000,
      timeout: this.timeoutMs,
    });
    const socket = this.socket;
    socket.on('connect', () => {
      this.unauthenticated = undefined;
      this.notice({ kind: 'connected', id: socket.id ?? '' });
      for (const follow of this.follows.values()) follow.subscribe();
    });
    socket.on('disconnect', (reason) => {
      this.notice({ kind: 'disconnected', reason });
      for (const follow of this.follows.values()) follow.setState('offline');
    });
    socket.on('connect_error', (error: Error & { data?: { code?: ConnectErrorCode } }) => {
      const code = error.data?.code;
      this.notice({ kind: 'connect-failed', code, message: error.message });
      // A refused token will not get better by retrying: every topic is refused.
      if (code === 'UNAUTHENTICATED') {
        const refusal = { code, message: `websocket-pool: ${error.message}` };
        this.unauthenticated = refusal;
        for (const follow of [...this.follows.values()]) follow.refuse(refusal);
        return;
      }
      // A replica that refuses at the handshake (draining, full): Socket.IO does not try again
      // after a refusal by the server, so this does, through the load balancer, to another.
      if (RETRIED_AT_HANDSHAKE.includes(code) && !this.closed) {
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.reconnect(), options.reconnectionDelayMs ?? 500);
      }
    });
    socket.on(SocketEvents.hello, (hello) => this.notice({ kind: 'hello', replica: hello.replica }));
    // The replica is going away: reconnect (to another); each topic is asked again on connect.
    socket.on(SocketEvents.drain, (drain) => {
      this.notice({ kind: 'drain', reason: drain.reason });
      this.reconnect();
    });
    socket.on(SocketEvents.events, (message: TopicEventsMessage) => {
      // (What the pool sends is typed, not trusted: a frame of another shape is dropped.)
      if (Array.isArray(message?.events)) this.follows.get(message.topic)?.receive(message.events);
    });
    socket.on(SocketEvents.resync, (message: ResyncMessage) => {
      this.notice({
        kind: 'resync',
        topic: message.topic,
        afterSeq: message.afterSeq,
        reload: message.reload ?? false,
      });
      this.follows.get(message.topic)?.resync(message);
    });
  }

  // Follows `topic` until its subscription is closed or refused. Following a topic again ends
  // the earlier follow of it on this connection.
  follow(topic: Topic, options: FollowOptions): TopicSubscription {
    this.follows.get(topic)?.close();
    const follow = new Follow(this, topic, options);
    this.follows.set(topic, follow);
    const refusal = this.unauthenticated;
    // (Told once the caller has its subscription.)
    if (refusal) queueMicrotask(() => follow.refuse(refusal));
    else follow.subscribe();
    return follow;
  }

  // Stops every topic and the connection.
  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.follows.clear();
    this.socket.close();
  }

  /** @internal */
  forget(follow: Follow): void {
    if (this.follows.get(follow.topic) === follow) this.follows.delete(follow.topic);
  }

  /** @internal */
  get ackTimeoutMs(): number {
    return this.timeoutMs;
  }

  private reconnect(): void {
    if (this.closed) return;
    this.socket.disconnect();
    this.socket.connect();
  }

  private notice(notice: ConnectionNotice): void {
    this.options.onNotice?.(notice);
  }
}

class Follow implements TopicSubscription {
  private seq: number;
  private current: TopicState = 'connecting';
  private ended = false;
  // Answers to a subscription asked before the last one are not this subscription's.
  private asked = 0;

  constructor(
    private readonly connection: TopicConnection,
    readonly topic: Topic,
    private readonly options: FollowOptions,
  ) {
    this.seq = options.afterSeq ?? 0;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get state(): TopicState {
    return this.current;
  }

  subscribe(): void {
    // Not while the connection is down: Socket.IO would hold the request and send it on the next
    // connect, beside the one every topic sends then (two answers, the events after the older
    // afterSeq twice).
    if (this.ended || !this.connection.socket.connected) return;
    const asked = (this.asked += 1);
    this.setState('connecting');
    this.connection.socket
      .timeout(this.connection.ackTimeoutMs)
      .emit(
        SocketEvents.subscribe,
        { topic: this.topic, afterSeq: this.seq },
        (error: Error | null, ack: SubscribeAck) => {
          if (this.ended || asked !== this.asked) return;
          if (error) {
            // Asked again on the next connect when the connection dropped meanwhile.
            if (!this.connection.socket.connected) return;
            this.refuse({
              code: 'TIMEOUT',
              message: 'websocket-pool did not answer the subscription in time',
            });
          } else if (!ack.ok) this.refuse(ack.error);
          else {
            this.options.onSubscribed?.({ topic: ack.topic, afterSeq: ack.afterSeq }, this);
            this.setState('live');
          }
        },
      );
  }

  receive(events: readonly TopicEvent[]): void {
    const fresh: TopicEvent[] = [];
    for (const event of events) {
      if (typeof event !== 'object' || event === null || typeof event.seq !== 'number') continue;
      if (event.seq <= this.seq) {
        this.options.onRepeat?.(event, this.seq);
        continue;
      }
      this.seq = event.seq;
      fresh.push(event);
    }
    if (fresh.length > 0 && !this.ended) this.options.onEvents(fresh, this);
  }

  resync(message: ResyncMessage): void {
    if (message.reload && this.options.onReload) {
      this.seq = message.afterSeq;
      this.options.onReload(message.afterSeq, this);
    }
    this.subscribe();
  }

  refuse(refusal: Refusal): void {
    if (this.ended) return;
    this.end();
    this.current = 'refused';
    this.options.onState?.('refused', this, refusal);
  }

  setState(state: TopicState): void {
    if (this.ended || state === this.current) return;
    this.current = state;
    this.options.onState?.(state, this);
  }

  close(): void {
    if (this.ended) return;
    this.end();
    const { socket } = this.connection;
    if (socket.connected) socket.emit(SocketEvents.unsubscribe, { topic: this.topic }, () => undefined);
  }

  private end(): void {
    this.ended = true;
    this.connection.forget(this);
  }
}
