import { migrate, quoteIdentifier } from '@hangar/db';
import { Client } from 'pg';
import { baseDatabaseUrl, randomSuffix, sanitizeLabel } from './test-env';

export interface TestDatabase {
  url: string;
  name: string;
  // Ends every connection to the database, then drops it. Safe to call twice.
  drop(): Promise<void>;
}

// PostgreSQL truncates identifiers at 63 bytes; keep the random suffix intact.
const MAX_LABEL_LENGTH = 63 - 'hangar_test__'.length - 8;

// A fresh, fully migrated database for one test file, so files can run in parallel.
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `hangar_test_${sanitizeLabel(label, MAX_LABEL_LENGTH)}_${randomSuffix()}`;
  const url = databaseUrlFor(name);
  const drop = () => dropDatabase(name);
  try {
    await migrate(url);
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
  return { url, name, drop };
}

function databaseUrlFor(name: string): string {
  const url = new URL(baseDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrlFor('postgres') });
  await client.connect();
  try {
    // FORCE (PostgreSQL 13+) ends open connections, such as a pool a test forgot to close.
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
