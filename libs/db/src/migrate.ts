import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, type DatabaseError } from 'pg';
import {
  connectionFailureReason,
  DatabaseUnreachableError,
  parseDatabaseUrl,
  withDatabase,
  type DatabaseLocation,
} from './database-url';

// Hangar applies Prisma-layout migrations itself because the schema engine cannot be downloaded
// here. Everything below mirrors `prisma migrate deploy`, so either tool can take over later.

// Prisma Migrate's own advisory lock key: holding it also keeps a concurrent `prisma migrate deploy` out.
const PRISMA_MIGRATE_LOCK_KEY = 72707369;
const MIGRATION_FILE = 'migration.sql';

// Same DDL as the schema engine's Postgres connector, so Prisma recognises the history.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrateOptions {
  // Defaults to the repository's prisma/migrations (see defaultMigrationsDir).
  migrationsDir?: string;
  log?: (line: string) => void;
}

export interface MigrateResult {
  // Migrations applied by this call, in order; empty when the database was already up to date.
  applied: string[];
  // Migrations that were already recorded as applied.
  alreadyApplied: string[];
  createdDatabase: boolean;
}

export interface MigrationFile {
  name: string;
  filePath: string;
  script: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migrationName?: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

// Resolved from this file, not the working directory, so it holds for src/ (ts, Jest) and dist/ alike.
export function defaultMigrationsDir(): string {
  return path.resolve(__dirname, '..', '..', '..', 'prisma', 'migrations');
}

// sha256 of the file's bytes as lowercase hex: what the schema engine stores in `checksum`.
export function migrationChecksum(script: string | Buffer): string {
  return createHash('sha256').update(script).digest('hex');
}

// The schema engine accepts a recorded checksum for the script with either line ending, because
// git may have converted them on checkout; so do we.
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  return [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')].some(
    (variant) => migrationChecksum(variant) === checksum,
  );
}

export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MigrationError(`no migrations folder at ${migrationsDir} (set HANGAR_MIGRATIONS_DIR)`);
    }
    throw error;
  }
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const filePath = path.join(migrationsDir, name, MIGRATION_FILE);
    let bytes: Buffer;
    try {
      bytes = await readFile(filePath);
    } catch {
      throw new MigrationError(`migration ${name} has no ${MIGRATION_FILE} (expected ${filePath})`, name);
    }
    migrations.push({ name, filePath, script: bytes.toString('utf8'), checksum: migrationChecksum(bytes) });
  }
  return migrations;
}

export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => undefined);
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir();
  const location = parseDatabaseUrl(databaseUrl);
  const migrations = await readMigrations(migrationsDir);

  const { client, createdDatabase } = await connectCreatingDatabase(databaseUrl, location, log);
  try {
    await acquireMigrateLock(client, log);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const recorded = await readHistory(client);

    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    for (const migration of migrations) {
      const rows = recorded.get(migration.name) ?? [];
      const done = rows.find((row) => row.finished_at !== null && row.rolled_back_at === null);
      if (done) {
        if (!scriptMatchesChecksum(migration.script, done.checksum)) {
          throw new MigrationError(
            `migration ${migration.name} was changed after it was applied (${migration.filePath} no longer matches ` +
              'the checksum in _prisma_migrations); restore the file and put the change in a new migration',
            migration.name,
          );
        }
        alreadyApplied.push(migration.name);
        continue;
      }
      if (rows.some((row) => row.finished_at === null && row.rolled_back_at === null)) {
        throw new MigrationError(
          `migration ${migration.name} is recorded as failed in _prisma_migrations; fix the database, then mark it ` +
            `with \`prisma migrate resolve --rolled-back ${migration.name}\` or delete its row`,
          migration.name,
        );
      }
      const startedAt = Date.now();
      await applyMigration(client, migration);
      applied.push(migration.name);
      log(`applied ${migration.name} (${Date.now() - startedAt} ms)`);
    }
    return { applied, alreadyApplied, createdDatabase };
  } finally {
    // Closing the session also releases the advisory lock.
    await client.end().catch(() => undefined);
  }
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

async function readHistory(client: Client): Promise<Map<string, HistoryRow[]>> {
  const { rows } = await client.query<HistoryRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at',
  );
  const byName = new Map<string, HistoryRow[]>();
  for (const row of rows) {
    byName.set(row.migration_name, [...(byName.get(row.migration_name) ?? []), row]);
  }
  return byName;
}

// One transaction per migration, history row included: a failure leaves neither schema changes
// nor a half-written record behind (Prisma would leave a "failed" row to resolve by hand).
async function applyMigration(client: Client, migration: MigrationFile): Promise<void> {
  const startedAt = new Date();
  await client.query('BEGIN');
  try {
    await client.query(migration.script);
    await client.query(
      `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, started_at, applied_steps_count)
       VALUES ($1, $2, clock_timestamp(), $3, NULL, $4, 1)`,
      [randomUUID(), migration.checksum, migration.name, startedAt],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(
      `migration ${migration.name} failed${sqlErrorLine(migration.script, error)}: ${connectionFailureReason(error)} ` +
        `(${migration.filePath}); nothing from it was applied`,
      migration.name,
    );
  }
}

// PostgreSQL reports where a statement failed as a 1-based character offset into the script.
function sqlErrorLine(script: string, error: unknown): string {
  const position = Number((error as Partial<DatabaseError>).position);
  if (!Number.isInteger(position) || position < 1) return '';
  const line = script.slice(0, position - 1).split('\n').length;
  return ` at line ${line}`;
}

async function acquireMigrateLock(client: Client, log: (line: string) => void): Promise<void> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    PRISMA_MIGRATE_LOCK_KEY,
  ]);
  if (rows[0]?.locked) return;
  log('waiting for another migration run to finish');
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
}

async function connectCreatingDatabase(
  databaseUrl: string,
  location: DatabaseLocation,
  log: (line: string) => void,
): Promise<{ client: Client; createdDatabase: boolean }> {
  try {
    return { client: await connect(databaseUrl, location), createdDatabase: false };
  } catch (error) {
    if (!(error instanceof DatabaseUnreachableError) || !isMissingDatabase(error.cause)) throw error;
  }
  const createdDatabase = await createDatabase(databaseUrl, location);
  if (createdDatabase) log(`created database ${location.database}`);
  return { client: await connect(databaseUrl, location), createdDatabase };
}

async function connect(databaseUrl: string, location: DatabaseLocation): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseUnreachableError(location, connectionFailureReason(error), { cause: error });
  }
}

// Returns false when someone else created it first.
async function createDatabase(databaseUrl: string, location: DatabaseLocation): Promise<boolean> {
  const maintenanceLocation = { ...location, database: 'postgres' };
  const client = await connect(withDatabase(databaseUrl, 'postgres'), maintenanceLocation);
  try {
    await client.query(`CREATE DATABASE ${quoteIdentifier(location.database)}`);
    return true;
  } catch (error) {
    const code = (error as Partial<DatabaseError>).code;
    // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database's unique index.
    if (code === '42P04' || code === '23505') return false;
    throw new MigrationError(
      `cannot create database ${location.database}: ${connectionFailureReason(error)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isMissingDatabase(error: unknown): boolean {
  return (error as Partial<DatabaseError> | undefined)?.code === '3D000';
}

export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
