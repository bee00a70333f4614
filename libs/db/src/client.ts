import { PrismaPg } from '@prisma/adapter-pg';
import { Client, Pool } from 'pg';
import { connectionFailureReason, DatabaseUnreachableError, parseDatabaseUrl } from './database-url';
import { PrismaClient } from './generated/prisma/client';
import { Sql } from './sql';

export { Prisma, PrismaClient, TaskStatus, MessageRole } from './generated/prisma/client';
export type {
  AgentProfile,
  ApiToken,
  Conversation,
  Message,
  Project,
  Task,
  TaskEvent,
} from './generated/prisma/client';

export interface CreatePrismaClientOptions {
  // Size of the pg pool behind the adapter; pg's default is 10.
  maxConnections?: number;
}

const pools = new WeakMap<PrismaClient, Sql>();

// How long a connection may sit idle in the pool before it is closed (pg's default is 10 s). A
// new connection costs PostgreSQL a backend process (its fork, its catalog caches filled again
// by the first statements, every prepared statement parsed again: ./sql.ts), and with 10 s a
// service's connections were closed between one burst of work and the next: the websocket-pool
// opened ~10 for the access checks of each burst of 24 subscriptions, ~12 new backends for every
// 24 tasks (docs/benchmarks.md).
const POOL_IDLE_TIMEOUT_MS = 120_000;

// Prisma 7 runs queries through the pg driver adapter and a WebAssembly query compiler,
// so no Prisma engine binary is needed at run time. The adapter's pg pool is ours, so the hot
// paths' statements can use it directly (`sqlOf`); $disconnect ends it.
export function createPrismaClient(
  databaseUrl: string,
  options: CreatePrismaClientOptions = {},
): PrismaClient {
  // Fail here on a malformed URL rather than at the first query.
  parseDatabaseUrl(databaseUrl);
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.maxConnections,
    idleTimeoutMillis: POOL_IDLE_TIMEOUT_MS,
    allowExitOnIdle: true,
  });
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  // A connection that breaks while idle leaves the pool; without a listener pg would throw.
  pool.on('error', () => undefined);
  pools.set(client, new Sql(pool));
  return client;
}

// The pool behind a client made by createPrismaClient, for node-postgres statements (./sql.ts).
export function sqlOf(prisma: PrismaClient): Sql {
  const sql = pools.get(prisma);
  if (!sql) throw new Error('this PrismaClient was not made by createPrismaClient');
  return sql;
}

export interface CheckDatabaseOptions {
  timeoutMs?: number;
}

// Connects once and runs a trivial query; throws DatabaseUnreachableError with a one-line message.
export async function checkDatabase(databaseUrl: string, options: CheckDatabaseOptions = {}): Promise<void> {
  const location = parseDatabaseUrl(databaseUrl);
  const client = new Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: options.timeoutMs ?? 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new DatabaseUnreachableError(location, connectionFailureReason(error), { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}
