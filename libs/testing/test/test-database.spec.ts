import { Client } from 'pg';
import { createTestDatabase, uniqueRedisPrefix, type TestDatabase } from '../src';

async function query<T extends object>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe(createTestDatabase.name, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('Testing Helper!');
  });

  afterAll(async () => {
    await database.drop();
  });

  it('should hand out a uniquely named, migrated database', async () => {
    const other = await createTestDatabase('Testing Helper!');
    try {
      expect(database.name).toMatch(/^hangar_test_testing_helper_[0-9a-f]{8}$/);
      expect(other.name).not.toBe(database.name);
      const projects = await query<{ id: string }>(database.url, 'SELECT id FROM projects');
      expect(projects).toEqual([{ id: 'default' }]);
    } finally {
      await other.drop();
    }
  });

  it('should drop the database even while a connection is still open', async () => {
    const doomed = await createTestDatabase('doomed');
    const lingering = new Client({ connectionString: doomed.url });
    lingering.on('error', () => undefined);
    await lingering.connect();

    await doomed.drop();
    await doomed.drop();

    const left = await query(database.url, 'SELECT 1 FROM pg_database WHERE datname = $1', [doomed.name]);
    expect(left).toEqual([]);
    await lingering.end().catch(() => undefined);
  });

  it('should keep label length within PostgreSQL identifier limits', async () => {
    const long = await createTestDatabase('x'.repeat(100));
    try {
      expect(long.name.length).toBeLessThanOrEqual(63);
    } finally {
      await long.drop();
    }
  });
});

describe(uniqueRedisPrefix.name, () => {
  it('should give each call its own prefix', () => {
    const first = uniqueRedisPrefix('task events');

    expect(first).toMatch(/^test:task_events:[0-9a-f]{8}$/);
    expect(uniqueRedisPrefix('task events')).not.toBe(first);
  });
});
