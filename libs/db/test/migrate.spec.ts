import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DatabaseUnreachableError,
  defaultMigrationsDir,
  migrate,
  MigrationError,
  migrationChecksum,
  readMigrations,
} from '../src';
import { dropDatabases, freshDatabaseUrl, withClient } from './fresh-database';

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

describe(migrate.name, () => {
  const created: string[] = [];
  const scratchDirs: string[] = [];

  function freshDatabase(label: string): string {
    const { url, name } = freshDatabaseUrl(label);
    created.push(name);
    return url;
  }

  // A private copy of the real migrations, so a test can edit or extend it.
  async function copyOfMigrations(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'hangar-migrations-'));
    scratchDirs.push(dir);
    await cp(defaultMigrationsDir(), dir, { recursive: true });
    return dir;
  }

  // Dropping a dozen databases (a checkpoint each) takes more than Jest's 5 s on a busy machine.
  afterAll(async () => {
    await dropDatabases(created);
    await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }, 60_000);

  it('should create the database, apply every migration, then apply none when run again', async () => {
    const url = freshDatabase('rerun');
    const names = (await readMigrations(defaultMigrationsDir())).map((migration) => migration.name);
    const lines: string[] = [];

    const first = await migrate(url, { log: (line) => lines.push(line) });
    const second = await migrate(url);

    expect(names.length).toBeGreaterThan(0);
    expect(first).toEqual({ applied: names, alreadyApplied: [], createdDatabase: true });
    expect(lines.filter((line) => line.startsWith('applied '))).toHaveLength(names.length);
    expect(second).toEqual({ applied: [], alreadyApplied: names, createdDatabase: false });
  });

  it('should record history rows the way Prisma Migrate does', async () => {
    const url = freshDatabase('history');
    await migrate(url);
    const migrations = await readMigrations(defaultMigrationsDir());

    const { rows, columns } = await withClient(url, async (client) => ({
      rows: (await client.query<HistoryRow>('SELECT * FROM _prisma_migrations ORDER BY migration_name')).rows,
      columns: (
        await client.query(
          `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
             FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
        )
      ).rows,
    }));

    expect(columns).toEqual([
      {
        column_name: 'id',
        data_type: 'character varying',
        character_maximum_length: 36,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'checksum',
        data_type: 'character varying',
        character_maximum_length: 64,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        character_maximum_length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        character_maximum_length: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'logs',
        data_type: 'text',
        character_maximum_length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        character_maximum_length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        character_maximum_length: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        character_maximum_length: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);
    expect(rows).toHaveLength(migrations.length);
    for (const [index, row] of rows.entries()) {
      const migration = migrations[index]!;
      const file = await readFile(migration.filePath);
      expect(row.migration_name).toBe(migration.name);
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.checksum).toHaveLength(64);
      expect(row.checksum).toBe(migrationChecksum(file));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('should seed the default project and its default agent profile', async () => {
    const url = freshDatabase('seed');
    await migrate(url);

    const { projects, profiles } = await withClient(url, async (client) => ({
      projects: (await client.query('SELECT id, slug FROM projects')).rows,
      profiles: (
        await client.query('SELECT id, project_id, name, provider, allowed_tools FROM agent_profiles')
      ).rows,
    }));

    expect(projects).toEqual([{ id: 'default', slug: 'default' }]);
    expect(profiles).toEqual([
      { id: 'default', project_id: 'default', name: 'default', provider: 'claude', allowed_tools: [] },
    ]);
  });

  it('should apply each migration once when two runs start together on a missing database', async () => {
    const url = freshDatabase('concurrent');

    const results = await Promise.all([migrate(url), migrate(url)]);

    const migrations = await readMigrations(defaultMigrationsDir());
    const appliedByEither = results.flatMap((result) => result.applied).sort();
    expect(appliedByEither).toEqual(migrations.map((migration) => migration.name));
    const counts = await withClient(url, async (client) => {
      const { rows } = await client.query<{ migration_name: string; count: string }>(
        'SELECT migration_name, count(*) FROM _prisma_migrations GROUP BY migration_name',
      );
      return rows.map((row) => Number(row.count));
    });
    expect(counts).toEqual(migrations.map(() => 1));
  });

  it('should refuse to run when an applied migration file was changed, naming it', async () => {
    const url = freshDatabase('tampered');
    const migrationsDir = await copyOfMigrations();
    await migrate(url, { migrationsDir });
    const [first] = await readMigrations(migrationsDir);
    await appendFile(first!.filePath, '\n-- an innocent-looking edit\n');

    const outcome = migrate(url, { migrationsDir });

    await expect(outcome).rejects.toThrow(MigrationError);
    await expect(outcome).rejects.toThrow(`migration ${first!.name} was changed after it was applied`);
  });

  it('should accept an applied migration whose line endings git converted to CRLF', async () => {
    const url = freshDatabase('crlf');
    const migrationsDir = await copyOfMigrations();
    await migrate(url, { migrationsDir });
    const [first] = await readMigrations(migrationsDir);
    await writeFile(first!.filePath, first!.script.replaceAll('\n', '\r\n'));

    await expect(migrate(url, { migrationsDir })).resolves.toMatchObject({ applied: [] });
  });

  it('should leave nothing behind and name the file and line when a migration fails', async () => {
    const url = freshDatabase('broken');
    const migrationsDir = await copyOfMigrations();
    const brokenDir = path.join(migrationsDir, '29990101000000_broken');
    await mkdir(brokenDir);
    await writeFile(
      path.join(brokenDir, 'migration.sql'),
      'CREATE TABLE "half_done" ("id" INTEGER);\n\nSELECT "nope" FROM "missing_table";\n',
    );

    const outcome = migrate(url, { migrationsDir });

    await expect(outcome).rejects.toThrow(
      /^migration 29990101000000_broken failed at line 3: relation "missing_table" does not exist \(.*29990101000000_broken\/migration\.sql\); nothing from it was applied$/,
    );
    const state = await withClient(url, async (client) => ({
      halfDone: (await client.query(`SELECT to_regclass('half_done') AS oid`)).rows[0].oid,
      recorded: (
        await client.query<{ migration_name: string }>(
          'SELECT migration_name FROM _prisma_migrations ORDER BY 1',
        )
      ).rows,
    }));
    expect(state.halfDone).toBeNull();
    expect(state.recorded.map((row) => row.migration_name)).not.toContain('29990101000000_broken');
    expect(state.recorded.length).toBeGreaterThan(0);

    await writeFile(path.join(brokenDir, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);\n');
    await expect(migrate(url, { migrationsDir })).resolves.toMatchObject({
      applied: ['29990101000000_broken'],
    });
  });

  it('should refuse a migration that Prisma recorded as failed', async () => {
    const url = freshDatabase('prisma_failed');
    const migrationsDir = await copyOfMigrations();
    await migrate(url, { migrationsDir });
    const extraDir = path.join(migrationsDir, '29990101000000_extra');
    await mkdir(extraDir);
    await writeFile(path.join(extraDir, 'migration.sql'), 'SELECT 1;\n');
    await withClient(url, (client) =>
      client.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES (gen_random_uuid(), $1, '29990101000000_extra')`,
        [migrationChecksum('SELECT 1;\n')],
      ),
    );

    await expect(migrate(url, { migrationsDir })).rejects.toThrow(
      'migration 29990101000000_extra is recorded as failed in _prisma_migrations',
    );
  });

  it('should say which server it cannot reach, in one line', async () => {
    const outcome = migrate('postgresql://hangar:s3cret@127.0.0.1:1/hangar');

    await expect(outcome).rejects.toThrow(DatabaseUnreachableError);
    await expect(outcome).rejects.toThrow(
      /^cannot reach PostgreSQL at 127\.0\.0\.1:1\/hangar: connect ECONNREFUSED$/,
    );
  });
});
