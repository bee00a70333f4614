import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type BinarySearch, findExecutable } from './binary-locator';
import { describeCommand, runCommand } from './command-runner';
import { LaunchFailed, type LaunchResult } from './launch-result';
import { listenAddressFor, type ServiceAddress } from './service-address';

export interface RedisLaunchContext {
  address: ServiceAddress;
  hangarHome: string;
  search: BinarySearch;
}

export async function launchRedis(context: RedisLaunchContext): Promise<LaunchResult> {
  const server = findExecutable('redis-server', context.search);
  if (!server) return { kind: 'not-installed' };
  const { address } = context;
  const dir = path.join(context.hangarHome, 'redis');
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, `redis-${address.port}.log`);
  // Hangar keeps nothing in Redis that PostgreSQL does not also hold: no snapshots, no AOF.
  const args = [
    '--daemonize',
    'yes',
    '--save',
    '',
    '--appendonly',
    'no',
    '--port',
    String(address.port),
    '--bind',
    listenAddressFor(address.host),
    '--dir',
    dir,
    '--logfile',
    logFile,
    '--pidfile',
    path.join(dir, `redis-${address.port}.pid`),
  ];
  const shownArgs = [...args];
  if (address.password !== undefined) {
    args.push('--requirepass', address.password);
    shownArgs.push('--requirepass', '***');
  }
  const result = await runCommand(server, args, { timeoutMs: 30_000 });
  if (result.code !== 0) {
    const status = result.code === null ? 'could not run' : `exited with code ${result.code}`;
    throw new LaunchFailed(
      `${describeCommand('redis-server', shownArgs)} ${status}\n${result.output}`.trim(),
    );
  }
  return { kind: 'started', how: describeCommand('redis-server', shownArgs), logFile };
}
