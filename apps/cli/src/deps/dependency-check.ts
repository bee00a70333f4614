import { setTimeout as sleep } from 'node:timers/promises';
import type { BinarySearch } from './binary-locator';
import { type ProbeResult, probePostgres, probeRedis } from './dependency-probe';
import { LaunchFailed, type LaunchResult } from './launch-result';
import { launchPostgres } from './postgres-launcher';
import { launchRedis } from './redis-launcher';
import { postgresAddress, redisAddress, type ServiceAddress } from './service-address';

export type DependencyName = 'PostgreSQL' | 'Redis';

export interface DependencyStatus {
  name: DependencyName;
  address: ServiceAddress;
  outcome: 'answering' | 'started' | 'failed';
  message: string;
  details: string[];
  // The Debian package to install when no server binary was found.
  missingPackage?: string;
}

export interface DependenciesReport {
  ok: boolean;
  statuses: DependencyStatus[];
  // What to do about the failures, one line each.
  advice: string[];
}

export interface EnsureDependenciesOptions {
  databaseUrl: string;
  redisUrl: string;
  hangarHome: string;
  search: BinarySearch;
  isRoot: boolean;
  startTimeoutMs?: number;
  probeTimeoutMs?: number;
}

interface DependencySpec {
  name: DependencyName;
  variable: 'DATABASE_URL' | 'REDIS_URL';
  debianPackage: string;
  address: ServiceAddress;
  probe: () => Promise<ProbeResult>;
  launch: () => Promise<LaunchResult>;
}

// Makes PostgreSQL and Redis answer: uses what runs at the configured URLs, and starts local
// servers from installed binaries only for local addresses that nothing answers on.
export async function ensureDependencies(options: EnsureDependenciesOptions): Promise<DependenciesReport> {
  const probeTimeout = options.probeTimeoutMs ?? 3_000;
  const postgres = postgresAddress(options.databaseUrl);
  const redis = redisAddress(options.redisUrl);
  const specs: DependencySpec[] = [
    {
      name: 'PostgreSQL',
      variable: 'DATABASE_URL',
      debianPackage: 'postgresql',
      address: postgres,
      probe: () => probePostgres(options.databaseUrl, probeTimeout),
      launch: () =>
        launchPostgres({
          address: postgres,
          hangarHome: options.hangarHome,
          search: options.search,
          isRoot: options.isRoot,
        }),
    },
    {
      name: 'Redis',
      variable: 'REDIS_URL',
      debianPackage: 'redis-server',
      address: redis,
      probe: () => probeRedis(options.redisUrl, probeTimeout),
      launch: () => launchRedis({ address: redis, hangarHome: options.hangarHome, search: options.search }),
    },
  ];
  const statuses = await Promise.all(specs.map((spec) => ensureOne(spec, options.startTimeoutMs ?? 60_000)));
  return {
    ok: statuses.every((status) => status.outcome !== 'failed'),
    statuses,
    advice: adviceFor(statuses, specs),
  };
}

async function ensureOne(spec: DependencySpec, startTimeoutMs: number): Promise<DependencyStatus> {
  const { name, address } = spec;
  const base = { name, address, details: [] as string[] };
  const first = await spec.probe();
  if (first.state === 'up') {
    return {
      ...base,
      outcome: 'answering',
      message: `${name} answers at ${address.display}`,
      details: notes(first),
    };
  }
  if (first.state === 'refused') {
    return {
      ...base,
      outcome: 'failed',
      message: `${name} at ${address.display} answered but refused the connection: ${first.reason}`,
      details: [`fix ${spec.variable} (user, password, database) or the server's settings`],
    };
  }
  if (!address.isLocal) {
    return {
      ...base,
      outcome: 'failed',
      message: `${name} does not answer at ${address.display} (${first.reason})`,
      details: [
        `${address.host} is not this machine, so hangar does not start a server for it: check ${spec.variable}`,
      ],
    };
  }

  let launched: LaunchResult;
  try {
    launched = await spec.launch();
  } catch (error) {
    const reason = error instanceof LaunchFailed || error instanceof Error ? error.message : String(error);
    return {
      ...base,
      outcome: 'failed',
      message: `${name} does not answer at ${address.display}, and starting a local server failed`,
      details: reason.split('\n'),
    };
  }
  if (launched.kind === 'not-installed') {
    return {
      ...base,
      outcome: 'failed',
      message: `${name} does not answer at ${address.display} (${first.reason}) and no ${name} server is installed`,
      details: [],
      missingPackage: spec.debianPackage,
    };
  }

  const after = await waitUntilUp(spec.probe, startTimeoutMs);
  const logLine = launched.logFile ? [`log: ${launched.logFile}`] : [];
  if (after.state !== 'up') {
    return {
      ...base,
      outcome: 'failed',
      message: `started ${name} (${launched.how}) but it does not answer at ${address.display}: ${after.reason}`,
      details: logLine,
    };
  }
  return {
    ...base,
    outcome: 'started',
    message: `${name} was not running; started it at ${address.display}`,
    details: [launched.how, ...logLine, ...notes(after)],
  };
}

export async function waitUntilUp(
  probe: () => Promise<ProbeResult>,
  timeoutMs: number,
): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs;
  let result = await probe();
  while (result.state === 'down' && Date.now() < deadline) {
    await sleep(250);
    result = await probe();
  }
  return result;
}

function notes(result: ProbeResult): string[] {
  return result.state === 'up' && result.note !== undefined ? [result.note] : [];
}

function adviceFor(statuses: DependencyStatus[], specs: DependencySpec[]): string[] {
  const failed = statuses.filter((status) => status.outcome === 'failed');
  if (failed.length === 0) return [];
  const packages = failed.flatMap((status) => (status.missingPackage ? [status.missingPackage] : []));
  const variables = specs
    .filter((spec) => failed.some((status) => status.name === spec.name))
    .map((spec) => spec.variable)
    .join(' / ');
  const advice: string[] = [];
  if (packages.length > 0) advice.push(`install: apt-get install ${packages.join(' ')}`);
  const target = failed.length > 1 ? 'servers that run' : 'a server that runs';
  advice.push(`${packages.length > 0 ? 'or ' : ''}set ${variables} to ${target}`);
  return advice;
}
