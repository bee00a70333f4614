import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModule, parsePlPgSQLSync, parseSync } from 'libpg-query';
import { defaultMigrationsDir } from '../src/migrate';

// TimescaleDB cannot be installed where the tests run, so the hypertable branch of the task_samples
// migration never runs in them (migrate.spec.ts only ever takes the native partitions). Its SQL
// must at least parse: PostgreSQL's own parser (libpg-query, compiled to WebAssembly) checks it.

const MIGRATION = path.join(defaultMigrationsDir(), '20261219000000_task_samples', 'migration.sql');

// The message of the parser's error, or undefined when `sql` parses.
function syntaxError(parse: (sql: string) => unknown, sql: string): string | undefined {
  try {
    parse(sql);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function match(text: string, pattern: RegExp, what: string): string {
  const found = pattern.exec(text)?.[1];
  if (found === undefined) throw new Error(`the migration has no ${what} (${pattern})`);
  return found;
}

// The `DO $migration$ … $migration$;` statement: the SQL parser takes its body for a string.
function doBlock(migration: string): string {
  return match(migration, /^(DO \$migration\$[\s\S]*?\$migration\$;)/m, 'DO $migration$ block');
}

// The statements of `IF timescale THEN … ELSE` as plain SQL: PERFORM x is SELECT x, and the
// EXECUTE format('… %s …', columns) is the statement it builds from the DECLAREd `columns`.
function timescaleStatements(migration: string): string[] {
  const block = doBlock(migration);
  const columns = match(block, /\bcolumns TEXT := \$columns\$([\s\S]*?)\$columns\$;/, 'columns');
  const branch = match(block, /\bIF timescale THEN\b([\s\S]*?)^\s*ELSE\b/m, 'IF timescale THEN branch');
  return branch
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '')
    .map((statement) => {
      if (/^PERFORM\b/i.test(statement)) return statement.replace(/^PERFORM\b/i, 'SELECT');
      if (!/^EXECUTE\b/i.test(statement)) return statement;
      const template = /^EXECUTE format\('((?:[^']|'')*)', columns\)$/.exec(statement)?.[1];
      if (template === undefined || template.split('%').length !== 2 || !template.includes('%s')) {
        throw new Error(`not an EXECUTE format('… %s …', columns): ${statement}`);
      }
      return template.replace(/''/g, "'").replace('%s', columns);
    });
}

function statementKinds(sql: string): string[] {
  return parseSync(sql).stmts!.map(({ stmt }) => Object.keys(stmt!)[0]!);
}

describe('20261219000000_task_samples migration (TimescaleDB branch)', () => {
  const migration = readFileSync(MIGRATION, 'utf8');

  beforeAll(async () => {
    await loadModule();
  });

  it('should parse every statement of the migration file as SQL', () => {
    expect(syntaxError(parseSync, migration)).toBeUndefined();
    expect(statementKinds(migration)).toEqual(expect.arrayContaining(['DoStmt', 'CreateStmt']));
  });

  it('should parse the body of the DO block as PL/pgSQL, both branches included', () => {
    expect(syntaxError(parsePlPgSQLSync, doBlock(migration))).toBeUndefined();
    const parsed = parsePlPgSQLSync(doBlock(migration)) as unknown as { plpgsql_funcs: unknown[] };
    expect(parsed.plpgsql_funcs).toHaveLength(1);
  });

  it('should parse each statement of the Timescale branch as SQL, the EXECUTEd CREATE TABLE included', () => {
    const statements = timescaleStatements(migration);

    for (const sql of statements) {
      expect({ sql, error: syntaxError(parseSync, sql) }).toEqual({ sql, error: undefined });
    }
    expect(statements.map((sql) => statementKinds(sql))).toEqual([
      ['CreateExtensionStmt'],
      ['CreateStmt'],
      ['SelectStmt'],
      ['AlterTableStmt'],
      ['SelectStmt'],
    ]);
    expect(statements[1]).toMatch(
      /^CREATE TABLE "task_samples" \(\s*"finished_at" TIMESTAMPTZ\(3\) NOT NULL,/,
    );
    expect(statements[2]).toBe(
      "SELECT create_hypertable('task_samples', by_range('finished_at', INTERVAL '1 day'))",
    );
  });

  it('should reject the Timescale branch with a misspelt keyword, which the SQL parser alone misses', () => {
    const broken = migration.replace('ALTER TABLE "task_samples" SET', 'ALTER TABEL "task_samples" SET');
    expect(broken).not.toBe(migration);

    // To the SQL parser the DO block is a string: only the PL/pgSQL parse sees inside it.
    expect(syntaxError(parseSync, broken)).toBeUndefined();
    expect(syntaxError(parsePlPgSQLSync, doBlock(broken))).toMatch(/syntax error at or near "TABEL"/);
    expect(timescaleStatements(broken).map((sql) => syntaxError(parseSync, sql))).toContainEqual(
      expect.stringMatching(/syntax error at or near "TABEL"/),
    );
  });

  it('should reject the hypertable CREATE TABLE when the columns text is broken, which PL/pgSQL misses', () => {
    const broken = migration.replace(
      'PRIMARY KEY ("task_id", "finished_at")',
      'PRIMARY KYE ("task_id", "finished_at")',
    );
    expect(broken).not.toBe(migration);

    // `columns` is a string to both parsers: only the CREATE TABLE built from it shows the mistake.
    expect(syntaxError(parsePlPgSQLSync, doBlock(broken))).toBeUndefined();
    expect(timescaleStatements(broken).map((sql) => syntaxError(parseSync, sql))).toContainEqual(
      expect.stringMatching(/syntax error at or near "KYE"/),
    );
  });
});
