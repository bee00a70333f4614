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
