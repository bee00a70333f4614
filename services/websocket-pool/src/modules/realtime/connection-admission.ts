import { Inject, Injectable } from '@nestjs/common';
import type { ConnectErrorCode } from '@hangar/contracts';
import { WEBSOCKET_POOL_CONFIG, type WebsocketPoolConfig } from '../../config';

// Whether this replica takes another connection: not while draining, not past its cap. Asked
// twice: at the HTTP request (so a load balancer in front moves the client to another replica
// at once) and at the namespace handshake (with a code the client can read).
@Injectable()
export class ConnectionAdmission {
  draining = false;
  // Connections held and handshakes in progress.
  open = 0;

  constructor(@Inject(WEBSOCKET_POOL_CONFIG) private readonly config: WebsocketPoolConfig) {}

  refusal(): { code: ConnectErrorCode; message: string } | undefined {
    if (this.draining) {
      return { code: 'DRAINING', message: 'this replica is shutting down; connect again to reach another' };
    }
    if (this.open >= this.config.WS_MAX_CONNECTIONS) {
      return {
        code: 'OVERLOADED',
        message: `this replica holds its maximum of ${this.config.WS_MAX_CONNECTIONS} connections; try another`,
      };
    }
    return undefined;
  }
}
