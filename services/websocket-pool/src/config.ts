import { z } from 'zod';
import { baseServiceEnv, port, positiveInt } from '@hangar/config';

export const WebsocketPoolConfigSchema = z.object({
  ...baseServiceEnv,
  WEBSOCKET_POOL_PORT: port(4006, 'the websocket-pool (Socket.IO, health and metrics)'),
  STREAM_BLOCK_MS: positiveInt(5000, 'longest wait of one blocking stream read'),
});
export type WebsocketPoolConfig = z.infer<typeof WebsocketPoolConfigSchema>;
export const WEBSOCKET_POOL_CONFIG = Symbol('WEBSOCKET_POOL_CONFIG');
