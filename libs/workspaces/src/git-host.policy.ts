import type { RepositorySpec } from './repository-spec.parser';
import { InvalidRepositorySpec } from './workspace.errors';

// HTTPS basic auth for one host (GitHub takes any user name with a token; GitLab wants "oauth2").
export interface GitHostCredential {
  token: string;
  username?: string | undefined;
}

// "host" or "host:port", lowercase (@hangar/contracts GitHostNameSchema checks it); no port
// means git's default ports: 443 (HTTPS) and 22 (SSH).
export interface GitHostEntry {
  host: string;
  credential?: GitHostCredential | null | undefined;
}

export interface InstallationGitHosts {
  // GIT_ALLOWED_HOSTS: the hosts of every project that has no list of its own.
  allowedHosts: readonly string[];
  // GIT_CREDENTIALS: for those projects only, each bound to the allowed host it names exactly.
  credentials?: readonly (GitHostCredential & { host: string })[] | undefined;
}

// Where git connects: a lowercase host name (or [IPv6 address]) and a port.
export interface GitEndpoint {
  host: string;
  port: number;
}

export interface GitHostPolicy {
  // Whose list applies: the project's own, or the installation's (the project has none).
  readonly source: 'project' | 'installation';
  allowed(endpoint: GitEndpoint): boolean;
  // Only ever the credential of the entry for this very host and port.
  credentialFor(endpoint: GitEndpoint): GitHostCredential | undefined;
}

export const DEFAULT_GIT_PORTS: readonly number[] = [443, 22];

interface ParsedEntry {
  host: string;
  // null: any of DEFAULT_GIT_PORTS.
  port: number | null;
  credential: GitHostCredential | undefined;
}

// The one rule for which hosts a task's git may talk to and what it offers them: the gateway's
// check, the runner's clone and push, and anything else that lets git out use it.
export function gitHostPolicy(
  project: readonly GitHostEntry[],
  installation: InstallationGitHosts,
): GitHostPolicy {
  const own = project.length > 0;
  const entries: ParsedEntry[] = own
    ? project.map((entry) => parseEntry(entry.host, entry.credential ?? undefined))
    : installation.allowedHosts.map((host) =>
        parseEntry(
          host,
          installation.credentials?.find((credential) => credential.host === host),
        ),
      );
  // An entry naming the port wins over one relying on the default ports.
  const entryFor = (endpoint: GitEndpoint): ParsedEntry | undefined => {
    const host = endpoint.host.toLowerCase();
    return (
      entries.find((entry) => entry.host === host && entry.port === endpoint.port) ??
      entries.find(
        (entry) => entry.host === host && entry.port === null && DEFAULT_GIT_PORTS.includes(endpoint.port),
      )
    );
  };
  return {
    source: own ? 'project' : 'installation',
    allowed: (endpoint) => entryFor(endpoint) !== undefined,
    credentialFor: (endpoint) => {
      const credential = entryFor(endpoint)?.credential;
      if (credential === undefined) return undefined;
      return { token: credential.token, ...(credential.username ? { username: credential.username } : {}) };
    },
  };
}

// "host", "host:port", "[v6]" or "[v6]:port" → its parts; the port null when not given.
export function parseGitHost(text: string): { host: string; port: number | null } {
  const value = text.trim().toLowerCase();
  const match = value.startsWith('[')
    ? /^(\[[^\]]*\])(?::([0-9]+))?$/.exec(value)
    : /^([^:]*)(?::([0-9]+))?$/.exec(value);
  if (!match?.[1]) return { host: value, port: null };
  return { host: match[1], port: match[2] === undefined ? null : Number(match[2]) };
}

// Where git connects for a remote repository (null for a local one).
export function repositoryEndpoint(spec: RepositorySpec): GitEndpoint | null {
  if (spec.kind === 'local') return null;
  const url = spec.url;
  const https = /^https:\/\/([^/?#]*)/i.exec(url);
  if (https) return endpointOf(https[1] ?? '', 443);
  const ssh = /^ssh:\/\/([^/?#]*)/i.exec(url);
  if (ssh) return endpointOf((ssh[1] ?? '').replace(/^.*@/, ''), 22);
  // scp-like [user@]host:path, where a bracketed IPv6 host holds colons of its own.
  const rest = url.replace(/^[^@:/[]*@/, '');
  const host = rest.startsWith('[') ? rest.slice(0, rest.indexOf(']') + 1) : rest.slice(0, rest.indexOf(':'));
  return { host: host.toLowerCase(), port: 22 };
}

// Refuses (as a bad `repository`) a remote repository on a host the policy does not allow.
export function assertRepositoryHostAllowed(spec: RepositorySpec, hosts: GitHostPolicy | undefined): void {
  const endpoint = repositoryEndpoint(spec);
  if (endpoint === null) return;
  const named = DEFAULT_GIT_PORTS.includes(endpoint.port)
    ? endpoint.host
    : `${endpoint.host}:${endpoint.port}`;
  if (hosts === undefined) {
    throw new InvalidRepositorySpec('repository', `no git hosts are allowed here, so not ${named}`);
  }
  if (hosts.allowed(endpoint)) return;
  throw new InvalidRepositorySpec(
    'repository',
    hosts.source === 'project'
      ? `git host ${named} is not allowed for this project; a project admin can add it to the project's git hosts`
      : `git host ${named} is not allowed on this installation (GIT_ALLOWED_HOSTS); a project admin can give the project its own git hosts`,
  );
}

function endpointOf(authority: string, defaultPort: number): GitEndpoint {
  const { host, port } = parseGitHost(authority);
  return { host, port: port ?? defaultPort };
}

function parseEntry(text: string, credential: GitHostCredential | undefined): ParsedEntry {
  return { ...parseGitHost(text), credential };
}
