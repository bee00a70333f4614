import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { LiveRoom } from '@hangar/auth';
import { SOCKET_NAMESPACE } from '@hangar/contracts';
import { createRedis, socketIoAdapterKey } from '@hangar/redis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

// The websocket-pool's sockets, reached without holding them (Socket.IO's Redis emitter): a
// revoked token, a signed-out session, a disabled user or one taken out of a project must not
// keep watching on a connection opened before.
@Injectable()
export class LiveSockets implements OnApplicationShutdown {
  private readonly logger = new Logger(LiveSockets.name);
  private readonly redis: Redis;
  private readonly emitter: Emitter;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.redis = createRedis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
    this.redis.on('error', (error: Error) => this.logger.debug(`Redis: ${error.message}`));
    this.emitter = new Emitter(this.redis, { key: socketIoAdapterKey(config.HANGAR_REDIS_PREFIX) }).of(
      SOCKET_NAMESPACE,
    );
  }

  // Every replica closes the sockets in this room: of a token, a user (and the tokens they
  // made) or one dashboard session (liveRooms in @hangar/auth).
  disconnect(room: LiveRoom): void {
    try {
      this.emitter.in(room).disconnectSockets(true);
    } catch (error) {
      this.logger.warn(`could not close the sockets of ${room}: ${String(error)}`);
    }
  }

  async onApplicationShutdown() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
