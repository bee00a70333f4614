// What an agent sees inside its sandbox: the same fixed paths on every runner and in task pods,
// so a conversation's session (keyed by its working directory) resumes anywhere.
export const SANDBOX_WORKSPACE = '/workspace';
// Where git run by the runner in a sandbox finds a workspace's repository kept beside its folder.
export const SANDBOX_GIT_DIR = '/workspace.git';
export const SANDBOX_HOME = '/home/agent';
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
export const SANDBOX_HOSTNAME = 'hangar-sandbox';

// The runner's endpoints for a sandboxed agent (model gateway, egress proxy) are one Unix socket
// bound into the sandbox; inside, a TCP port on the sandbox's own loopback leads to it.
export const SANDBOX_RUNNER_SOCKET = '/run/hangar/runner.sock';
export const SANDBOX_RUNNER_PORT = 3128;
export const SANDBOX_RUNNER_URL = `http://127.0.0.1:${SANDBOX_RUNNER_PORT}`;

// The host's system, read-only: programs and libraries. Top-level links (a merged /usr's
// /bin → usr/bin) are recreated as links.
export const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

// Of /etc, only what programs need to run: the loader, certificates, name service switch,
// time zone, alternatives (copied into the sandbox's own /etc: writeSandboxEtc). passwd, group
// and hosts are the sandbox's own (written by the runner).
export const ETC_ENTRIES = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'gai.conf',
  'host.conf',
  'inputrc',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'magic',
  'magic.mime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'pki',
  'protocols',
  'services',
  'ssl',
  'terminfo',
  'timezone',
] as const;
