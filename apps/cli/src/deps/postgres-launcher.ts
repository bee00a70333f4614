import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BinarySearch, findExecutable, findPostgresBinDir } from './binary-locator';
import { type CommandResult, describeCommand, runCommand } from './command-runner';
import { LaunchFailed, type LaunchResult } from './launch-result';
import { listenAddressFor, type ServiceAddress } from './service-address';

export interface PostgresLaunchContext {
  address: ServiceAddress;
  hangarHome: string;
  search: BinarySearch;
  isRoot: boolean;
}

interface DebianCluster {
  version: string;
  name: string;
  port: number;
  status: string;
  logFile: string | undefined;
}

// Debian's postgresql-common first: a packaged cluster on the wanted port is the server the
// machine means to run. Failing that, a private cluster under .hangar/ made with initdb.
export async function launchPostgres(context: PostgresLaunchContext): Promise<LaunchResult> {
  const cluster = await startDebianCluster(context);
  if (cluster) return cluster;
  return startPrivateCluster(context);
}

export function parseClusterList(output: string): DebianCluster[] {
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4 && /^\d+$/.test(fields[2] ?? ''))
    .map((fields) => ({
      version: fields[0] ?? '',
      name: fields[1] ?? '',
      port: Number(fields[2]),
      status: fields[3] ?? '',
      logFile: fields[6],
    }));
}

async function startDebianCluster(context: PostgresLaunchContext): Promise<LaunchResult | undefined> {
  const lsclusters = findExecutable('pg_lsclusters', context.search);
  const ctlcluster = findExecutable('pg_ctlcluster', context.search);
  if (!lsclusters || !ctlcluster) return undefined;
  const listed = await runCommand(lsclusters, ['--no-header'], { timeoutMs: 15_000 });
  if (listed.code !== 0) return undefined;
  const cluster = parseClusterList(listed.output).find(
    (candidate) => candidate.port === context.address.port,
  );
  if (!cluster) return undefined;
  if (cluster.status.startsWith('online')) {
    throw new LaunchFailed(
      `cluster ${cluster.version}/${cluster.name} is online on port ${cluster.port} but does not answer at ` +
        `${context.address.host}; check listen_addresses in /etc/postgresql/${cluster.version}/${cluster.name}/postgresql.conf`,
    );
  }
  // Without the flag, pg_ctlcluster hands over to systemctl, which containers and CI lack.
  const args = ['--skip-systemctl-redirect', cluster.version, cluster.name, 'start'];
  const result = await runCommand(ctlcluster, args, { timeoutMs: 90_000 });
  if (result.code !== 0) throw commandFailed('pg_ctlcluster', args, result);
  return { kind: 'started', how: describeCommand('pg_ctlcluster', args), logFile: cluster.logFile };
}

async function startPrivateCluster(context: PostgresLaunchContext): Promise<LaunchResult> {
  const binDir = findPostgresBinDir(context.search);
  if (!binDir) return { kind: 'not-installed' };
  const { address, hangarHome } = context;
  const dataDir = path.join(hangarHome, `postgres-${address.port}`);
  const logFile = path.join(hangarHome, `postgres-${address.port}.log`);
  // PostgreSQL refuses to run as root; as root, the cluster belongs to the `postgres` user.
  const owner = context.isRoot ? await postgresUser(context.search) : undefined;
  mkdirSync(hangarHome, { recursive: true });

  const run = async (tool: string, args: string[]): Promise<void> => {
    const binary = path.join(binDir, tool);
    const [command, fullArgs] = owner
      ? [owner.runuser, ['-u', 'postgres', '--', binary, ...args]]
      : [binary, args];
    const result = await runCommand(command, fullArgs, { timeoutMs: 120_000 });
    if (result.code !== 0) throw commandFailed(tool, args, result);
  };

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(dataDir, owner.uid, owner.gid);
    await run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  }
  if (!existsSync(logFile)) writeFileSync(logFile, '');
  if (owner) chownSync(logFile, owner.uid, owner.gid);
  const serverOptions = [
    `-p ${address.port}`,
    `-c listen_addresses='${listenAddressFor(address.host)}'`,
    `-c unix_socket_directories='${dataDir}'`,
  ].join(' ');
  await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions, 'start']);
  return {
    kind: 'started',
    how: `${describeCommand('pg_ctl', ['-D', dataDir, 'start'])} (port ${address.port})`,
    logFile,
  };
}

async function postgresUser(search: BinarySearch): Promise<{ runuser: string; uid: number; gid: number }> {
  const runuser = findExecutable('runuser', search);
  const id = findExecutable('id', search);
  if (!runuser || !id) {
    throw new LaunchFailed(
      'running as root: PostgreSQL must run as another user, and runuser(1) was not found',
    );
  }
  const uid = await runCommand(id, ['-u', 'postgres']);
  const gid = await runCommand(id, ['-g', 'postgres']);
  if (uid.code !== 0 || gid.code !== 0) {
    throw new LaunchFailed(
      'running as root: PostgreSQL must run as another user and there is no `postgres` user ' +
        '(apt-get install postgresql creates one)',
    );
  }
  return { runuser, uid: Number(uid.output), gid: Number(gid.output) };
}

function commandFailed(tool: string, args: string[], result: CommandResult): LaunchFailed {
  const status = result.code === null ? 'could not run' : `exited with code ${result.code}`;
  const output = result.output === '' ? '' : `\n${result.output}`;
  return new LaunchFailed(`${describeCommand(tool, args)} ${status}${output}`);
}
