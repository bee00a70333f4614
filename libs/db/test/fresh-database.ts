import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DEFAULT_DATABASE_URL } from '@hangar/config';
import { createPrismaClient, migrate, type PrismaClient } from '../src';

// @hangar/testing depends on this package, so these specs carry their own tiny helper
// instead of importing it (a workspace cycle would break the build graph).

const BASE_URL = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;

// A URL for a database that does not exist yet; migrate() creates it.
export function freshDatabaseUrl(label: string): { url: string; name: string } {
  const name = `hangar_test_db_${label}_${randomBytes(4).toString('hex')}`;
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

export async function dropDatabases(names: string[]): Promise<void> {
  const url = new URL(BASE_URL);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

// A database of the spec file's own: migrated before its tests, with a client, dropped after them.
export function migratedDatabase(label: string): { readonly prisma: PrismaClient } {
  const { url, name } = freshDatabaseUrl(label);
  const database = {} as { prisma: PrismaClient };
  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    database.prisma = createPrismaClient(url);
  });
  afterAll(async () => {
    await database.prisma?.$disconnect();
    await dropDatabases([name]);
  });
  return database;
}
