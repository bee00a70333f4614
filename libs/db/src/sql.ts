import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { Prisma } from './generated/prisma/client';

// node-postgres itself, on the pool Prisma's adapter uses, for the statements on Hangar's hot
// paths: a task's state changes (a step's end) and the workflow engine's decision and the tasks
// it starts. Measured on this project's 2-core machine, a Prisma statement costs the service
// about 0.5 ms of CPU before PostgreSQL sees it (its query compiler and adapter), node-postgres
// 0.07 ms; with agent CLIs busy on those cores that became most of a step's latency
// (docs/benchmarks.md). Statements are written with Prisma.sql, whose `text` numbers its
// parameters for PostgreSQL: values are always parameters, never spliced in. JSON values are
// passed as text (`json()`) and cast, since pg sends a JS array as a PostgreSQL array.
export class Sql {
  constructor(private readonly pool: Pool) {}

  async query<T>(statement: Prisma.Sql): Promise<T[]> {
    const result = await this.pool.query(prepared(statement));
    return result.rows as T[];
  }

  // One connection, BEGIN … COMMIT around `work` (ROLLBACK when it throws).
  async transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const outcome = await work(new SqlTransaction(client));
      await client.query('COMMIT');
      return outcome;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => {
        // A connection that cannot roll back is not given to anyone else.
        broken = rollback instanceof Error ? rollback : new Error(String(rollback));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

export class SqlTransaction {
  constructor(private readonly client: PoolClient) {}

  async query<T>(statement: Prisma.Sql): Promise<T[]> {
    const result = await this.client.query(prepared(statement));
    return result.rows as T[];
  }
}

// Each statement is prepared once per connection (named by its text's hash): PostgreSQL parses
// and analyses it once instead of at every call (and may keep a generic plan), and these
// statements are on every step's path.
const names = new Map<string, string>();
function prepared(statement: Prisma.Sql): QueryConfig {
  let name = names.get(statement.text);
  if (!name) {
    name = `hangar_${createHash('sha1').update(statement.text).digest('hex').slice(0, 20)}`;
    if (names.size > 10_000) names.clear();
    names.set(statement.text, name);
  }
  return { name, text: statement.text, values: statement.values };
}

// A JSON value as a parameter (with `::jsonb` in the statement); SQL NULL for null/undefined.
export function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

// `"column" = value, …` for an UPDATE's SET: a Prisma.Sql value is SQL (`attempts + 1`), any
// other a parameter. Column names come from this library's code, never from input.
export function assignments(values: Record<string, unknown>): Prisma.Sql {
  return Prisma.join(
    Object.entries(values).map(([column, value]) => Prisma.sql`${Prisma.raw(`"${column}"`)} = ${value}`),
  );
}
