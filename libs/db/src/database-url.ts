// Helpers that talk about a database without ever repeating its URL: URLs carry passwords.

export interface DatabaseLocation {
  host: string;
  port: number;
  database: string;
}

export function parseDatabaseUrl(databaseUrl: string): DatabaseLocation {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('invalid database URL: expected postgresql://user:password@host:port/database');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`invalid database URL: scheme must be postgresql:// (got ${url.protocol}//)`);
  }
  // libpq lets `?host=` override the authority, e.g. for a Unix socket directory.
  const host = url.searchParams.get('host') ?? (url.hostname || 'localhost');
  const port = Number(url.port || url.searchParams.get('port') || 5432);
  const database =
    decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres';
  return { host, port, database };
}

export function describeDatabase(location: DatabaseLocation): string {
  return `${location.host}:${location.port}/${location.database}`;
}

export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export class DatabaseUnreachableError extends Error {
  constructor(
    readonly location: DatabaseLocation,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach PostgreSQL at ${describeDatabase(location)}: ${reason}`, options);
    this.name = 'DatabaseUnreachableError';
  }
}

// One short line for a failed connection: system errors become "connect ECONNREFUSED"
// (the address is already in the surrounding message), PostgreSQL errors keep their text.
// Duck-typed rather than `instanceof`: errors from Node's own realm fail that check under Jest.
export function connectionFailureReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return firstLine(String(error)) || 'unknown error';
  const { code, syscall, message, errors } = error as Partial<NodeJS.ErrnoException & { errors: unknown[] }>;
  // Node tries every address of a name (::1 and 127.0.0.1 for localhost) and aggregates the failures.
  if (Array.isArray(errors) && errors.length > 0) return connectionFailureReason(errors[0]);
  if (typeof code === 'string' && typeof syscall === 'string') return `${syscall} ${code}`;
  return (
    firstLine(typeof message === 'string' ? message : '') ||
    (typeof code === 'string' ? code : 'unknown error')
  );
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}
