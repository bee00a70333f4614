import { Redis } from 'ioredis';
import { Client } from 'pg';

export type ProbeResult =
  | { state: 'up'; note?: string }
  // Nothing answered: refused, timed out, no such socket.
  | { state: 'down'; reason: string }
  // A server answered but would not serve us (authentication, wrong database settings).
  | { state: 'refused'; reason: string };

const DEFAULT_TIMEOUT_MS = 3_000;

export async function probePostgres(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ProbeResult> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { state: 'up' };
  } catch (error) {
    return classifyPostgresError(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function classifyPostgresError(error: unknown): ProbeResult {
  const code = errorCode(error);
  const message = errorMessage(error);
  // SQLSTATE codes are five characters; Node's socket errors are words (ECONNREFUSED).
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === '3D000')
      return { state: 'up', note: 'the database does not exist yet; migrations create it' };
    if (code === '57P03') return { state: 'down', reason: 'the server is starting up' };
    return { state: 'refused', reason: `${message} (SQLSTATE ${code})` };
  }
  return {
    state: 'down',
    reason: code !== undefined && !message.includes(code) ? `${code}: ${message}` : message,
  };
}

export async function probeRedis(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ProbeResult> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  let lastError: unknown;
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
    return { state: 'up' };
  } catch (error) {
    // With retries off, connect() only says "Connection is closed."; the cause came as an event.
    return classifyRedisError(lastError ?? error);
  } finally {
    client.disconnect();
  }
}

export function classifyRedisError(error: unknown): ProbeResult {
  const message = errorMessage(error);
  if (/^LOADING/.test(message)) return { state: 'down', reason: 'the server is loading its data' };
  // A reply error means a Redis server is there and said no (NOAUTH, WRONGPASS, ...).
  if (isObject(error) && error.name === 'ReplyError') return { state: 'refused', reason: message };
  const code = errorCode(error);
  return {
    state: 'down',
    reason: code !== undefined && !message.includes(code) ? `${code}: ${message}` : message,
  };
}

// Duck-typed: socket errors may come from another realm (Jest), where `instanceof Error` fails.
function errorCode(error: unknown): string | undefined {
  return isObject(error) && typeof error.code === 'string' ? error.code : undefined;
}

function errorMessage(error: unknown): string {
  if (!isObject(error)) return String(error);
  if (Array.isArray(error.errors) && error.errors.length > 0 && !error.message)
    return errorMessage(error.errors[0]);
  if (typeof error.message === 'string' && error.message !== '') return error.message;
  return typeof error.name === 'string' ? error.name : 'unknown error';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
