import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { connectionFailureReason, DatabaseUnreachableError, parseDatabaseUrl } from './database-url';
import { PrismaClient } from './generated/prisma/client';

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

// Prisma 7 runs queries through the pg driver adapter and a WebAssembly query compiler,
// so no Prisma engine binary is needed at run time.
export function createPrismaClient(
  databaseUrl: string,
  options: CreatePrismaClientOptions = {},
): PrismaClient {
  // Fail here on a malformed URL rather than at the first query.
  parseDatabaseUrl(databaseUrl);
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.maxConnections });
  return new PrismaClient({ adapter });
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
