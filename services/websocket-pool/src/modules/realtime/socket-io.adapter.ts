import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
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

  override async dispose(): Promise<void> {
    await super.dispose();
    await Promise.all(this.clients.map((client) => client.quit().catch(() => client.disconnect())));
  }
}
