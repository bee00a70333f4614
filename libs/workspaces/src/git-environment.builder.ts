import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertRepositoryHostAllowed, repositoryEndpoint, type GitHostPolicy } from './git-host.policy';
import type { GitContext } from './git.runner';
import type { RepositorySpec } from './repository-spec.parser';

// From configuration only, never from a task's input. HTTPS tokens come from a GitHostPolicy,
// bound to their host; the SSH key is for whichever allowed host the repository is on
// (ssh only talks to hosts already in known_hosts).
export interface GitCredentials {
  sshKeyPath?: string;
  // Default: ssh's own (~/.ssh/known_hosts of the user running Hangar, /etc/ssh/ssh_known_hosts).
  sshKnownHostsPath?: string;
}

// What a remote operation may do: which hosts (required for a remote repository) and with what.
export interface RemoteAccess {
  hosts?: GitHostPolicy | undefined;
  credentials?: GitCredentials | undefined;
}

export type GitTransport = 'https' | 'ssh' | 'file';

export const HANGAR_IDENTITY = { name: 'Hangar', email: 'hangar@localhost' } as const;
export const DEFAULT_HTTPS_USERNAME = 'x-access-token';

// Variables an operator's network needs (proxies, extra CAs); nothing else is inherited.
const PASSED_THROUGH = [
  'PATH',
  'HTTPS_PROXY',
  'https_proxy',
  'ALL_PROXY',
  'all_proxy',
  'NO_PROXY',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
];

export interface GitEnvironmentInput {
  protocols: readonly GitTransport[];
  // A prepared workspace: git must use its repository and never look further up.
  workspace?: string | undefined;
  // Its repository when not <workspace>/.git (one kept beside the folder).
  gitDir?: string | undefined;
  ssh?: SshSettings | undefined;
  askpass?: AskpassHelper | undefined;
}

export interface SshSettings {
  keyPath?: string | undefined;
  knownHostsPath?: string | undefined;
}

export interface AskpassHelper {
  program: string;
  username: string;
  token: string;
  host: string;
}

export function buildGitEnvironment(context: GitContext, input: GitEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  Object.assign(env, {
    HOME: context.home,
    XDG_CONFIG_HOME: context.home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GCM_INTERACTIVE: 'never',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_AUTHOR_NAME: HANGAR_IDENTITY.name,
    GIT_AUTHOR_EMAIL: HANGAR_IDENTITY.email,
    GIT_COMMITTER_NAME: HANGAR_IDENTITY.name,
    GIT_COMMITTER_EMAIL: HANGAR_IDENTITY.email,
    // Set even without a key: it outranks a core.sshCommand the workspace's config might carry.
    GIT_SSH_COMMAND: sshCommand(input.ssh),
    GIT_SSH_VARIANT: 'ssh',
  });
  if (input.workspace !== undefined) {
    env.GIT_DIR = input.gitDir ?? path.join(input.workspace, '.git');
    env.GIT_WORK_TREE = input.workspace;
    env.GIT_CEILING_DIRECTORIES = path.dirname(input.workspace);
  }
  if (input.askpass !== undefined) {
    env.GIT_ASKPASS = input.askpass.program;
    env.HANGAR_GIT_HOST = input.askpass.host;
    env.HANGAR_GIT_USERNAME = input.askpass.username;
    env.HANGAR_GIT_TOKEN = input.askpass.token;
  }
  // Command-line scope (GIT_CONFIG_COUNT) outranks the repository's own config, which the agent can edit.
  const config: [string, string][] = [
    ['protocol.allow', 'never'],
    ...input.protocols.map((protocol): [string, string] => [`protocol.${protocol}.allow`, 'always']),
    ['core.hooksPath', '/dev/null'],
    ['core.fsmonitor', 'false'],
    ['core.askPass', ''],
    ['credential.helper', ''],
    ['core.quotePath', 'false'],
    // git's default, pinned: only the first request follows a redirect (without credentials
    // unless it stays on the same host, see ASKPASS_SCRIPT).
    ['http.followRedirects', 'initial'],
    ['commit.gpgSign', 'false'],
    ['tag.gpgSign', 'false'],
    ['gc.auto', '0'],
    ['maintenance.auto', 'false'],
    ['submodule.recurse', 'false'],
    ['fetch.recurseSubmodules', 'false'],
    ['advice.detachedHead', 'false'],
  ];
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

export function transportOf(spec: RepositorySpec): GitTransport {
  if (spec.kind === 'local') return 'file';
  return /^https:/i.test(spec.url) ? 'https' : 'ssh';
}

// The host part git shows in its credential prompt ("Password for 'https://user@<host>': ").
export function httpsHost(url: string): string {
  return /^https:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
}

export type RemoteEnvironment = (workspace?: string) => Record<string, string>;

// Runs `work` with the environment a remote operation needs (with or without a workspace's .git);
// the credential helper exists only meanwhile. A remote repository's host must be allowed.
export async function withRemoteEnvironment<T>(
  context: GitContext,
  spec: RepositorySpec,
  access: RemoteAccess,
  work: (envFor: RemoteEnvironment, secrets: string[]) => Promise<T>,
): Promise<T> {
  assertRepositoryHostAllowed(spec, access.hosts);
  const transport = transportOf(spec);
  const protocols = [transport];
  const endpoint = repositoryEndpoint(spec);
  const credential =
    transport === 'https' && endpoint !== null ? access.hosts?.credentialFor(endpoint) : undefined;
  if (credential === undefined || spec.kind !== 'remote') {
    const credentials = access.credentials;
    const ssh =
      transport === 'ssh'
        ? { keyPath: credentials?.sshKeyPath, knownHostsPath: credentials?.sshKnownHostsPath }
        : undefined;
    return work((workspace) => buildGitEnvironment(context, { protocols, workspace, ssh }), []);
  }
  const { token } = credential;
  const username = credential.username ?? DEFAULT_HTTPS_USERNAME;
  const folder = await mkdtemp(path.join(context.tempDir, 'hangar-askpass-'));
  try {
    await chmod(folder, 0o700);
    const program = path.join(folder, 'askpass.sh');
    await writeFile(program, ASKPASS_SCRIPT, { mode: 0o700 });
    const askpass = { program, username, token, host: httpsHost(spec.url) };
    const basic = Buffer.from(`${username}:${token}`).toString('base64');
    return await work(
      (workspace) => buildGitEnvironment(context, { protocols, workspace, askpass }),
      [token, encodeURIComponent(token), basic],
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

// The script holds no secret: git hands it its own environment. It answers only prompts for
// the repository's own host and port (git names the host it is talking to, after a redirect
// too), so any other host gets nothing.
export const ASKPASS_SCRIPT = `#!/bin/sh
case "$1" in
  "Username for 'https://$HANGAR_GIT_HOST'"*) printf '%s\\n' "$HANGAR_GIT_USERNAME" ;;
  "Password for 'https://$HANGAR_GIT_USERNAME@$HANGAR_GIT_HOST'"*) printf '%s\\n' "$HANGAR_GIT_TOKEN" ;;
  *) exit 1 ;;
esac
`;

function sshCommand(ssh: SshSettings | undefined): string {
  // git runs GIT_SSH_COMMAND through the shell: every value is single-quoted.
  const parts = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes'];
  if (ssh?.keyPath !== undefined) parts.push('-i', ssh.keyPath, '-o', 'IdentitiesOnly=yes');
  if (ssh?.knownHostsPath !== undefined) parts.push('-o', `UserKnownHostsFile=${ssh.knownHostsPath}`);
  return parts.map(shellQuote).join(' ');
}

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
