import { connectionFailureReason, describeDatabase, parseDatabaseUrl, withDatabase } from './database-url';

describe(parseDatabaseUrl.name, () => {
  it('should read host, port and database when all are given', () => {
    expect(parseDatabaseUrl('postgresql://u:p@db.internal:6543/hangar?sslmode=require')).toEqual({
      host: 'db.internal',
      port: 6543,
      database: 'hangar',
    });
  });

  it('should default the port to 5432 and the database to the user name when they are missing', () => {
    expect(describeDatabase(parseDatabaseUrl('postgres://alice@localhost'))).toBe('localhost:5432/alice');
  });

  it('should take the host from ?host= when the URL points at a Unix socket', () => {
    expect(parseDatabaseUrl('postgresql:///hangar?host=/var/run/postgresql').host).toBe(
      '/var/run/postgresql',
    );
  });

  it('should not echo the URL when it is malformed', () => {
    expect(() => parseDatabaseUrl('not a url with s3cret')).toThrow(/^invalid database URL/);
    expect(() => parseDatabaseUrl('not a url with s3cret')).not.toThrow(/s3cret/);
  });
});

describe(withDatabase.name, () => {
  it('should swap only the database name', () => {
    expect(withDatabase('postgresql://u:p@h:1/a?sslmode=require', 'postgres')).toBe(
      'postgresql://u:p@h:1/postgres?sslmode=require',
    );
  });
});

describe(connectionFailureReason.name, () => {
  it('should shorten a system error to its syscall and code', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });

    expect(connectionFailureReason(error)).toBe('connect ECONNREFUSED');
  });

  it('should use the first failure when Node aggregates several addresses', () => {
    const first = Object.assign(new Error('connect ECONNREFUSED ::1:1'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });

    expect(connectionFailureReason(new AggregateError([first, new Error('other')], ''))).toBe(
      'connect ECONNREFUSED',
    );
  });

  it('should keep only the first line of a multi-line message', () => {
    expect(connectionFailureReason(new Error('password authentication failed\nDETAIL: more'))).toBe(
      'password authentication failed',
    );
  });
});
