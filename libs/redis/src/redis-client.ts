import { Redis, type RedisOptions } from 'ioredis';

// The one Redis client factory: transport, queue, streams and (later) the Socket.IO adapter
// all get their connections here, so TLS, auth and retry behaviour are set in one place.
// Only connection settings: the shape both ioredis and Nest's Redis transport accept.
export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
}

export function redisOptionsFromUrl(url: string): RedisConnectionOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    db: Number.isFinite(db) ? db : 0,
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis({
    ...redisOptionsFromUrl(url),
    // BullMQ and blocking stream reads need commands to wait for a reconnect, not fail.
    maxRetriesPerRequest: null,
    ...options,
  });
}

export function describeRedis(url: string): string {
  const { host, port, db } = redisOptionsFromUrl(url);
  return `${host}:${port}${db ? `/${db}` : ''}`;
}

export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = createRedis(url, {
    lazyConnect: true,
    disconnectTimeout: 10,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // ioredis reports the socket error as an event and rejects with "Connection is closed";
  // keep the socket error, it is the useful one (ECONNREFUSED, ENOTFOUND, auth…).
  let socketError: Error | undefined;
  client.on('error', (error: Error) => (socketError ??= error));
  try {
    // Our own timer (unref'd): ioredis' connectTimeout timer outlives a refused connection.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([client.connect().then(() => client.ping()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    const reason = socketError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new Error(`cannot reach Redis at ${describeRedis(url)}: ${reason}`);
  } finally {
    client.disconnect();
  }
}

// The channel prefix of Socket.IO's Redis adapter (websocket-pool) and of the emitter other
// services use to reach its sockets without holding them.
export function socketIoAdapterKey(prefix: string): string {
  return `${prefix}:socket.io`;
}
