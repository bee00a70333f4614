import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { parse as parseCookies } from 'cookie';
import type { Namespace as IoNamespace, Socket as IoSocket } from 'socket.io';
import {
  Authenticator,
  SESSION_COOKIE,
  liveRooms,
  sha256Hex,
  type LiveRoom,
  type Principal,
} from '@hangar/auth';
import {
  ApprovalAnswerMessageSchema,
  HangarError,
  SOCKET_NAMESPACE,
  SocketEvents,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type AnswerApprovalAck,
  type ClientToServerEvents,
  type ConnectErrorCode,
  type DrainMessage,
  type HelloMessage,
  type ServerToClientEvents,
  type SubscribeAck,
  type Topic,
  type UnsubscribeAck,
} from '@hangar/contracts';
import { AuditRepository } from '@hangar/db';
import { ApprovalDesk, approvalAuditDetails } from '@hangar/platform';
import { WEBSOCKET_POOL_CONFIG, type WebsocketPoolConfig } from '../../config';
import { RealtimeMetrics, type ConnectionState } from './realtime.metrics';
import { ConnectionAdmission } from './connection-admission';
import { SubscribeRefused, TopicAccess } from './topic-access';
import { TopicHub, type SubscriberSink, type Subscription } from './topic-hub';

// The protocol's typed maps (@hangar/contracts): what this door handles and emits.
type Socket = IoSocket<ClientToServerEvents, ServerToClientEvents>;
type Namespace = IoNamespace<ClientToServerEvents, ServerToClientEvents>;

// What a checked handshake leaves on the socket (socket.data) for handleConnection.
interface Admitted {
  principal: Principal;
  rooms: LiveRoom[];
}

interface Connection {
  state: ConnectionState;
  principal: Principal;
  subscriptions: Map<Topic, Subscription>;
  idleTimer: NodeJS.Timeout | undefined;
  ageTimer: NodeJS.Timeout | undefined;
}

class Refusal extends Error {
  readonly data: { code: ConnectErrorCode };
  constructor(code: ConnectErrorCode, message: string) {
    super(message);
    this.data = { code };
  }
}

// What engine.io holds for a socket that is not reading: packets not yet handed to the
// transport, and bytes the WebSocket has not been able to write.
// While one frame is being written, engine.io keeps the next packets in writeBuffer (each with
// its encoded `data`); the WebSocket's own bufferedAmount holds at most the frame in flight.
interface EngineConnection {
  writeBuffer?: { data?: unknown }[];
  transport?: { socket?: { bufferedAmount?: number } };
}

// Bytes queued to a client: the frame in flight and the packets waiting behind it (a healthy
// client has none or one waiting, so the sum is short).
function queuedBytes(engine: EngineConnection): number {
  let bytes = engine.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of engine.writeBuffer ?? [])
    if (typeof packet.data === 'string') bytes += packet.data.length;
  return bytes;
}

// The Socket.IO door (namespace /v1, docs/realtime.md): the handshake names the caller (an API
// token, or the dashboard's session cookie); a connection goes connecting → ready → active
// (subscribed) → idle (none left) → closed after WS_IDLE_TIMEOUT_MS, or recycled; SIGTERM drains.
@WebSocketGateway({ namespace: SOCKET_NAMESPACE })
export class RealtimeGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, BeforeApplicationShutdown
{
  private readonly logger = new Logger(RealtimeGateway.name);
  private readonly connections = new Map<Socket, Connection>();
  private namespace: Namespace | undefined;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly access: TopicAccess,
    private readonly hub: TopicHub,
    private readonly metrics: RealtimeMetrics,
    private readonly admission: ConnectionAdmission,
    private readonly approvals: ApprovalDesk,
    private readonly audit: AuditRepository,
    @Inject(WEBSOCKET_POOL_CONFIG) private readonly config: WebsocketPoolConfig,
  ) {}

  afterInit(namespace: Namespace) {
    this.namespace = namespace;
    // Several sockets, one message: encoded once, written to each (every socket is in the room
    // of its own id). `local`: not through the Redis adapter to the other replicas.
    this.hub.fanout = (sinks, message) => {
      if (sinks.length === 1) return sinks[0]!.send(message);
      namespace.local.to(sinks.map((sink) => sink.id)).emit(SocketEvents.events, message);
    };
    namespace.use((socket, next) => {
      this.admit(socket).then(
        () => next(),
        (error: unknown) => {
          const refusal =
            error instanceof Refusal
              ? error
              : error instanceof HangarError && error.code === 'UNAUTHENTICATED'
                ? new Refusal('UNAUTHENTICATED', error.message)
                : new Refusal('UNAUTHENTICATED', 'the handshake could not be checked; try again');
          if (!(error instanceof Refusal) && !(error instanceof HangarError))
            this.logger.error({ err: error }, 'handshake failed');
          this.metrics.refused.inc({ code: refusal.data.code });
          next(refusal);
        },
      );
    });
  }

  // A refused handshake gets `connect_error` with a message and `data.code`, never a hang.
  private async admit(socket: Socket): Promise<void> {
    const refusal = this.admission.refusal();
    if (refusal) throw new Refusal(refusal.code, refusal.message);
    this.admission.open += 1;
    this.metrics.connections.inc({ state: 'connecting' });
    let admitted = false;
    try {
      Object.assign(socket.data as Admitted, await this.authenticate(socket));
      admitted = true;
    } finally {
      // An admitted handshake stays counted, as its connection, until it disconnects.
      if (!admitted) this.admission.open -= 1;
      this.metrics.connections.dec({ state: 'connecting' });
    }
  }

  private async authenticate(socket: Socket): Promise<Admitted> {
    const handshake = socket.handshake;
    const auth = handshake.auth as { token?: unknown } | undefined;
    const bearer = /^Bearer[ \t]+(\S+)$/i.exec(handshake.headers.authorization ?? '')?.[1];
    const token = typeof auth?.token === 'string' ? auth.token : bearer;
    if (token) {
      const principal = await this.authenticator.fromToken(token);
      return { principal, rooms: liveRooms(principal) };
    }
    const session = parseCookies(handshake.headers.cookie ?? '')[SESSION_COOKIE];
    if (session) {
      // A page of another site must not ride on the dashboard's cookie (cross-site WebSocket hijacking).
      const origin = handshake.headers.origin;
      if (origin !== undefined && !this.sameSite(origin, handshake.headers.host)) {
        throw new Refusal('UNAUTHENTICATED', `a session from another site (${origin}) is refused`);
      }
      const principal = await this.authenticator.fromSession(session);
      return { principal, rooms: liveRooms(principal, sha256Hex(session)) };
    }
    throw new Refusal(
      'UNAUTHENTICATED',
      'send an API token (auth: { token }) or sign in to the dashboard first',
    );
  }

  private sameSite(origin: string, host: string | undefined): boolean {
    if (this.config.WS_CORS_ORIGINS.includes(origin)) return true;
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  handleConnection(socket: Socket) {
    const { principal, rooms } = socket.data as Partial<Admitted>;
    if (!principal) {
      socket.disconnect(true);
      return;
    }
    if (socket.disconnected) {
      // Gone between its handshake and now.
      this.admission.open -= 1;
      return;
    }
    const connection: Connection = {
      state: 'ready',
      principal,
      subscriptions: new Map(),
      idleTimer: undefined,
      ageTimer: undefined,
    };
    this.connections.set(socket, connection);
    // The handshake is checked and copied (socket.handshake): the HTTP request that opened the
    // connection need not stay in memory for its whole life (Socket.IO's memory-usage advice;
    // about a tenth of an idle connection's footprint).
    (socket.conn as unknown as { request: unknown }).request = null;
    this.metrics.connections.inc({ state: 'ready' });
    // The gateway reaches a caller's sockets by these rooms (a revoked token is disconnected).
    void socket.join(rooms ?? []);
    const hello: HelloMessage = {
      replica: this.config.REPLICA_ID,
      maxSubscriptions: this.config.WS_MAX_SUBSCRIPTIONS,
    };
    socket.emit(SocketEvents.hello, hello);
    this.armIdle(socket, connection);
    if (this.config.WS_MAX_CONNECTION_AGE_MS > 0) {
      connection.ageTimer = setTimeout(
        () => this.sendAway(socket, 'connection recycled: reconnect to spread the load'),
        this.config.WS_MAX_CONNECTION_AGE_MS,
      ).unref();
    }
  }

  handleDisconnect(socket: Socket) {
    const connection = this.connections.get(socket);
    if (!connection) return;
    for (const subscription of connection.subscriptions.values()) this.hub.unsubscribe(subscription);
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.ageTimer);
    this.setState(connection, undefined);
    this.connections.delete(socket);
    this.admission.open -= 1;
  }

  @SubscribeMessage(SocketEvents.subscribe)
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    const connection = this.connections.get(socket);
    const parsed = SubscribeRequestSchema.safeParse(body);
    if (!connection) return { ok: false, error: { code: 'INTERNAL', message: 'not connected' } };
    if (!parsed.success)
      return { ok: false, error: { code: 'INVALID_REQUEST', message: describe(parsed.error) } };
    const { topic, afterSeq = 0 } = parsed.data;
    if (
      !connection.subscriptions.has(topic) &&
      connection.subscriptions.size >= this.config.WS_MAX_SUBSCRIPTIONS
    ) {
      return {
        ok: false,
        error: {
          code: 'TOO_MANY_SUBSCRIPTIONS',
          message: `a connection holds at most ${this.config.WS_MAX_SUBSCRIPTIONS} subscriptions; unsubscribe first`,
        },
      };
    }
    try {
      await this.access.check(connection.principal, topic);
    } catch (error) {
      if (error instanceof SubscribeRefused)
        return { ok: false, error: { code: error.code, message: error.message } };
      this.logger.error({ err: error, topic }, 'subscribe failed');
      return {
        ok: false,
        error: { code: 'INTERNAL', message: 'the subscription could not be checked; try again' },
      };
    }
    if (!this.connections.has(socket))
      return { ok: false, error: { code: 'INTERNAL', message: 'disconnected' } };
    // Subscribing again restarts the topic from the new afterSeq.
    const previous = connection.subscriptions.get(topic);
    if (previous) this.hub.unsubscribe(previous);
    const subscription = await this.hub.subscribe(topic, afterSeq, this.sink(socket, connection));
    connection.subscriptions.set(topic, subscription);
    this.touch(socket, connection);
    // The ack goes out before the first event: the backlog starts on the next tick.
    setImmediate(() => {
      if (!subscription.closed) this.hub.start(subscription);
    });
    return { ok: true, topic, afterSeq };
  }

  // A tool call waiting for approval, answered by an operator of its project, as over REST
  // (the same use case, audited the same way).
  @SubscribeMessage(SocketEvents.answerApproval)
  async answerApproval(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: unknown,
  ): Promise<AnswerApprovalAck> {
    const connection = this.connections.get(socket);
    if (!connection) return { ok: false, error: { code: 'INTERNAL', message: 'not connected' } };
    const parsed = ApprovalAnswerMessageSchema.safeParse(body);
    if (!parsed.success)
      return { ok: false, error: { code: 'INVALID_REQUEST', message: describe(parsed.error) } };
    const { approvalId, ...answer } = parsed.data;
    this.touch(socket, connection);
    try {
      const answered = await this.approvals.answer(connection.principal, approvalId, answer);
      const { projectId, ...approval } = answered;
      const actor = connection.principal.actor;
      await this.audit.record({
        projectId,
        actor: { type: actor.type, id: actor.id, label: actor.label },
        action: 'approval.answer',
        target: { type: 'approval', id: approvalId },
        details: { via: 'socket.io', ...approvalAuditDetails(answered) },
      });
      return { ok: true, approval };
    } catch (error) {
      if (error instanceof HangarError) {
        const code =
          error.code === 'FORBIDDEN'
            ? 'FORBIDDEN'
            : error.code === 'APPROVAL_CLOSED'
              ? 'CONFLICT'
              : 'UNKNOWN';
        return { ok: false, error: { code, message: error.message } };
      }
      this.logger.error({ err: error, approvalId }, 'answering an approval failed');
      return {
        ok: false,
        error: { code: 'INTERNAL', message: 'the answer could not be recorded; try again' },
      };
    }
  }

  @SubscribeMessage(SocketEvents.unsubscribe)
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): UnsubscribeAck {
    const parsed = UnsubscribeRequestSchema.safeParse(body);
    if (!parsed.success)
      return { ok: false, error: { code: 'INVALID_REQUEST', message: describe(parsed.error) } };
    const connection = this.connections.get(socket);
    const subscription = connection?.subscriptions.get(parsed.data.topic);
    if (connection && subscription) {
      this.hub.unsubscribe(subscription);
      connection.subscriptions.delete(parsed.data.topic);
      this.touch(socket, connection);
    }
    return { ok: true, topic: parsed.data.topic };
  }

  // SIGTERM: take no new connections, tell everyone to reconnect elsewhere, give them
  // WS_DRAIN_MS to go, then close the rest.
  async beforeApplicationShutdown() {
    this.admission.draining = true;
    const drain: DrainMessage = { reason: 'replica shutting down', reconnectInMs: 0 };
    for (const socket of this.connections.keys()) socket.emit(SocketEvents.drain, drain);
    const deadline = Date.now() + this.config.WS_DRAIN_MS;
    while (this.connections.size > 0 && Date.now() < deadline) await sleep(50);
    if (this.connections.size > 0)
      this.logger.log(`closing ${this.connections.size} connection(s) after the drain`);
    // `local`: through the Redis adapter, a bare disconnectSockets reaches every replica's sockets.
    this.namespace?.local.disconnectSockets(true);
  }

  private sink(socket: Socket, connection: Connection): SubscriberSink {
    return {
      id: socket.id,
      full: () => {
        const engine = socket.conn as unknown as EngineConnection;
        const packets = engine.writeBuffer?.length ?? 0;
        return (
          packets >= this.config.WS_MAX_QUEUED_MESSAGES ||
          queuedBytes(engine) >= this.config.WS_MAX_BUFFERED_BYTES
        );
      },
      send: (message) => {
        socket.emit(SocketEvents.events, message);
      },
      resync: (message) => {
        const subscription = connection.subscriptions.get(message.topic);
        if (subscription?.closed) connection.subscriptions.delete(message.topic);
        socket.emit(SocketEvents.resync, message);
        this.touch(socket, connection);
      },
    };
  }

  // The state follows the subscriptions; without any, the idle clock runs.
  private touch(socket: Socket, connection: Connection) {
    if (connection.subscriptions.size > 0) {
      this.setState(connection, 'active');
      clearTimeout(connection.idleTimer);
      connection.idleTimer = undefined;
    } else {
      this.setState(connection, 'idle');
      this.armIdle(socket, connection);
    }
  }

  private armIdle(socket: Socket, connection: Connection) {
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => {
      if (connection.subscriptions.size === 0) socket.disconnect(true);
    }, this.config.WS_IDLE_TIMEOUT_MS).unref();
  }

  private setState(connection: Connection, state: ConnectionState | undefined) {
    if (connection.state === state) return;
    this.metrics.connections.dec({ state: connection.state });
    if (state) this.metrics.connections.inc({ state });
    if (state) connection.state = state;
  }

  private sendAway(socket: Socket, reason: string) {
    const drain: DrainMessage = { reason, reconnectInMs: 0 };
    socket.emit(SocketEvents.drain, drain);
    setTimeout(() => socket.disconnect(true), 5_000).unref();
  }
}

function describe(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}
