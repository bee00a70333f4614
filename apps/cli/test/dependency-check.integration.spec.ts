import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type BinarySearch, defaultBinarySearch } from '../src/deps/binary-locator';
import { runCommand } from '../src/deps/command-runner';
import { ensureDependencies } from '../src/deps/dependency-check';
import { probePostgres, probeRedis } from '../src/deps/dependency-probe';
import { parseClusterList } from '../src/deps/postgres-launcher';
import { parseServiceAddress } from '../src/deps/service-address';
import { freePort } from '@hangar/testing';

// This machine runs PostgreSQL and Redis on their standard local ports (docs: "This machine").
const LOCAL_POSTGRES = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NOTHING_INSTALLED: BinarySearch = { path: '', extraDirs: [], postgresLibDir: '/nonexistent' };
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('dependency detection', () => {
  let hangarHome: string;

  beforeEach(() => {
    hangarHome = mkdtempSync(path.join(tmpdir(), 'hangar-deps-'));
    // The postgres user must reach a cluster made here when the tests run as root.
    chmodSync(hangarHome, 0o755);
  });

  afterEach(() => {
    rmSync(hangarHome, { recursive: true, force: true });
  });

  it('should find the running PostgreSQL and Redis answering', async () => {
    await expect(probePostgres(LOCAL_POSTGRES)).resolves.toEqual({ state: 'up' });
    await expect(probeRedis(LOCAL_REDIS)).resolves.toEqual({ state: 'up' });
  });

  it('should count a missing database as a server that answers because migrations create it', async () => {
    const url = new URL(LOCAL_POSTGRES);
    url.pathname = '/hangar_no_such_database_for_probe';
    await expect(probePostgres(url.toString())).resolves.toMatchObject({
      state: 'up',
      note: expect.stringMatching(/migrations/),
    });
  });

  it('should report down for closed ports', async () => {
    const port = await freePort();
    await expect(probePostgres(`postgresql://postgres@127.0.0.1:${port}/hangar`)).resolves.toMatchObject({
      state: 'down',
      reason: expect.stringMatching(/ECONNREFUSED/),
    });
    await expect(probeRedis(`redis://127.0.0.1:${port}`)).resolves.toMatchObject({
      state: 'down',
      reason: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('should tell a server that refuses apart from one that is not there', async () => {
    const postgres = new URL(LOCAL_POSTGRES);
    postgres.username = 'hangar_no_such_role';
    await expect(probePostgres(postgres.toString())).resolves.toMatchObject({ state: 'refused' });
    const redis = new URL(LOCAL_REDIS);
    redis.username = 'hangar-no-such-user';
    redis.password = 'wrong';
    await expect(probeRedis(redis.toString())).resolves.toMatchObject({ state: 'refused' });
  });

  it('should leave answering servers alone', async () => {
    const report = await ensureDependencies({
      databaseUrl: LOCAL_POSTGRES,
      redisUrl: LOCAL_REDIS,
      hangarHome,
      search: NOTHING_INSTALLED,
      isRoot,
    });
    expect(report.ok).toBe(true);
    expect(report.statuses.map((status) => status.outcome)).toEqual(['answering', 'answering']);
    expect(report.advice).toEqual([]);
  });

  it('should say exactly what to install when nothing answers and no server is installed', async () => {
    const port = await freePort();
    const report = await ensureDependencies({
      databaseUrl: `postgresql://postgres@127.0.0.1:${port}/hangar`,
      redisUrl: `redis://127.0.0.1:${port}`,
      hangarHome,
      search: NOTHING_INSTALLED,
      isRoot,
    });
    expect(report.ok).toBe(false);
    expect(report.statuses.map((status) => status.missingPackage)).toEqual(['postgresql', 'redis-server']);
    expect(report.advice).toEqual([
      'install: apt-get install postgresql redis-server',
      'or set DATABASE_URL / REDIS_URL to servers that run',
    ]);
  });

  it('should start a local Redis from the installed binary when its local port is closed', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const report = await ensureDependencies({
      databaseUrl: LOCAL_POSTGRES,
      redisUrl: url,
      hangarHome,
      search: defaultBinarySearch(process.env.PATH ?? ''),
      isRoot,
    });
    try {
      expect(report.statuses[1]).toMatchObject({ name: 'Redis', outcome: 'started' });
      await expect(probeRedis(url)).resolves.toEqual({ state: 'up' });
    } finally {
      const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
      client.on('error', () => undefined);
      await client.connect();
      await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      client.disconnect();
    }
  }, 30_000);

  it('should make and start a private PostgreSQL cluster under the hangar home when its local port is closed', async () => {
    const port = await freePort();
    const url = `postgresql://postgres@127.0.0.1:${port}/hangar`;
    const report = await ensureDependencies({
      databaseUrl: url,
      redisUrl: LOCAL_REDIS,
      hangarHome,
      search: defaultBinarySearch(process.env.PATH ?? ''),
      isRoot,
    });
    const dataDir = path.join(hangarHome, `postgres-${port}`);
    try {
      expect(report.statuses[0]).toMatchObject({ name: 'PostgreSQL', outcome: 'started' });
      await expect(probePostgres(url)).resolves.toMatchObject({ state: 'up' });
    } finally {
      if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
        const binDir = path.dirname(
          (await runCommand('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1']))
            .output,
        );
        const stop = [path.join(binDir, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop'];
        if (isRoot) await runCommand('runuser', ['-u', 'postgres', '--', ...stop]);
        else await runCommand(stop[0] ?? 'pg_ctl', stop.slice(1));
      }
    }
  }, 90_000);
});

describe(parseClusterList.name, () => {
  it("should read pg_lsclusters' columns", () => {
    const output = [
      '15  main    5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log',
      '16  extra   5433 down   postgres /var/lib/postgresql/16/extra /var/log/postgresql/postgresql-16-extra.log',
    ].join('\n');
    expect(parseClusterList(output)).toEqual([
      {
        version: '15',
        name: 'main',
        port: 5432,
        status: 'online',
        logFile: '/var/log/postgresql/postgresql-15-main.log',
      },
      {
        version: '16',
        name: 'extra',
        port: 5433,
        status: 'down',
        logFile: '/var/log/postgresql/postgresql-16-extra.log',
      },
    ]);
  });
});

describe(parseServiceAddress.name, () => {
  it('should treat loopback names as local and other hosts as remote, masking passwords', () => {
    expect(parseServiceAddress('redis://:secret@localhost:6380', 6379)).toMatchObject({
      host: 'localhost',
      port: 6380,
      isLocal: true,
      password: 'secret',
      display: 'redis://:***@localhost:6380',
    });
    expect(parseServiceAddress('postgresql://u@[::1]/db', 5432)).toMatchObject({
      host: '::1',
      port: 5432,
      isLocal: true,
    });
    expect(parseServiceAddress('postgresql://u@db.internal:5432/db', 5432).isLocal).toBe(false);
  });
});
