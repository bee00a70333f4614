import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions } from 'socket.io';
import { createRedis, socketIoAdapterKey } from '@hangar/redis';
import type { WebsocketPoolConfig } from '../../config';
import { ConnectionAdmission } from './connection-admission';

// Socket.IO as configured: heartbeats, small frames, and the Redis adapter, so a broadcast to a
// room (from any replica, or from another service through the emitter) reaches every replica.
export class HangarIoAdapter extends IoAdapter {
  private readonly clients: Redis[] = [];

  constructor(
    private readonly app: INestApplicationContext,
    private readonly config: WebsocketPoolConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...options,
      pingInterval: this.config.WS_PING_INTERVAL_MS,
      pingTimeout: this.config.WS_PING_TIMEOUT_MS,
      // Clients send small requests only.
      maxHttpBufferSize: 64 * 1024,
      // Refused at the HTTP request, before any Socket.IO work: a proxy in front (NGINX's
      // proxy_next_upstream) then tries another replica.
      allowRequest: (
        _request: unknown,
        callback: (error: string | null | undefined, success: boolean) => void,
      ) => {
        const refusal = this.app.get(ConnectionAdmission, { strict: false }).refusal();
        if (refusal) callback(`${refusal.code}: ${refusal.message}`, false);
        else callback(null, true);
      },
      cors:
        this.config.WS_CORS_ORIGINS.length > 0
          ? { origin: this.config.WS_CORS_ORIGINS, credentials: true }
          : undefined,
    }) as Server;
    const publisher = createRedis(this.config.REDIS_URL);
    const subscriber = publisher.duplicate();
    this.clients.push(publisher, subscriber);
    server.adapter(
      createAdapter(publisher, subscriber, { key: socketIoAdapterKey(this.config.HANGAR_REDIS_PREFIX) }),
    );
    return server;
  }

  // Nest's own binding builds an RxJS pipeline per handler per connection (fromEvent, mergeMap,
  // takeUntil the disconnect): about eight subscribers and their closures for every idle
  // connection. Plain listeners do the same per message, and an idle connection costs nothing
  // more than the socket (bench/realtime: RSS per idle connection).
  override bindMessageHandlers(
    // The type of the socket.io copy that @nestjs/platform-socket.io itself depends on.
    socket: Parameters<IoAdapter['bindMessageHandlers']>[0],
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args) as {
          data: unknown;
          ack?: (response: unknown) => void;
        };
        transform(callback(data, ack)).subscribe((response) => {
          if (response === null || response === undefined) return;
          const reply = response as { event?: string; data?: unknown };
          if (reply.event) return socket.emit(reply.event, reply.data);
          if (!isAckHandledManually && typeof ack === 'function') ack(response);
        });
      });
    }
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    await Promise.all(this.clients.map((client) => client.quit().catch(() => client.disconnect())));
  }
}
