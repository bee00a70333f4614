import { hostname } from 'node:os';
import { z } from 'zod';
import { baseServiceEnv, port, positiveInt } from '@hangar/config';

const count = (fallback: number, what: string, min = 1) =>
  z.coerce.number().int().min(min).default(fallback).describe(what);

export const WebsocketPoolConfigSchema = z.object({
  ...baseServiceEnv,
  WEBSOCKET_POOL_PORT: port(4006, 'the websocket-pool (Socket.IO, health and metrics)'),
  REPLICA_ID: z
    .string()
    .min(1)
    .default(`${hostname()}-${process.pid}`)
    .describe("this replica's name (told to clients, in metrics and logs)"),
  STREAM_BLOCK_MS: positiveInt(5000, 'longest wait of one blocking stream read'),
  WS_MAX_CONNECTIONS: count(20_000, 'connections one replica takes; more are refused with OVERLOADED'),
  WS_MAX_SUBSCRIPTIONS: count(100, 'subscriptions one connection may hold'),
  WS_IDLE_TIMEOUT_MS: count(300_000, 'a connection without subscriptions this long is closed'),
  WS_PING_INTERVAL_MS: count(25_000, 'heartbeat: how often the server pings'),
  WS_PING_TIMEOUT_MS: count(20_000, 'heartbeat: how long a pong may take before the connection is dropped'),
  WS_MAX_BUFFERED_BYTES: count(1_048_576, 'bytes queued to one slow client before it is told to resync'),
  WS_MAX_QUEUED_MESSAGES: count(
    1_000,
    'messages (batches of events) queued to one slow client before resync; ten times as many events may be held during a replay',
  ),
  WS_DRAIN_MS: count(
    10_000,
    'on SIGTERM, how long clients get to reconnect elsewhere before they are closed',
    0,
  ),
  WS_MAX_CONNECTION_AGE_MS: count(
    0,
    'recycle connections older than this (0: never), to spread load again',
    0,
  ),
  WS_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .describe('browser origins (besides this host) allowed to connect with the session cookie'),
});
export type WebsocketPoolConfig = z.infer<typeof WebsocketPoolConfigSchema>;
export const WEBSOCKET_POOL_CONFIG = Symbol('WEBSOCKET_POOL_CONFIG');
