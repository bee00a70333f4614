import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import {
  ETC_ENTRIES,
  SANDBOX_GID,
  SANDBOX_HOME,
  SANDBOX_HOSTNAME,
  SANDBOX_RUNNER_PORT,
  SANDBOX_RUNNER_SOCKET,
  SANDBOX_UID,
  SANDBOX_GIT_DIR,
  SANDBOX_WORKSPACE,
  SYSTEM_PATHS,
} from './sandbox-layout';
import type { SandboxHost } from './sandbox-host';

export interface Command {
  command: string;
  args: string[];
  env: Record<string, string>;
}

// One run inside a sandbox: host paths, and what the command inside may reach.
export interface SandboxRun {
  // The run's workspace, mounted at SANDBOX_WORKSPACE; read-only for runs that may only read.
  workspace: string;
  workspaceReadOnly?: boolean;
  // A git directory kept outside the workspace (Hangar's repository beside a folder), mounted
  // writable at SANDBOX_GIT_DIR: for git run by the runner, never for an agent.
  gitDir?: string;
  // The run's home, mounted at SANDBOX_HOME (writable). None: an empty tmpfs.
  home?: string;
  // A Unix socket on the host reached from inside at 127.0.0.1:SANDBOX_RUNNER_PORT. None: no
  // network at all (the loopback of the sandbox's own network namespace, with nothing on it).
  runnerSocket?: string;
  // Host paths the command needs besides the system (an agent CLI's package), read-only at the
  // same path.
  readOnlyPaths?: readonly string[];
  // Working directory inside; default SANDBOX_WORKSPACE.
  cwd?: string;
  // Folders of the workspace (relative) the command must not see: covered with an empty,
  // read-only folder where they exist (one created during the run is seen by the next).
  hiddenWorkspacePaths?: readonly string[];
}

// Waits until the bridge listens before the command starts, so its first request cannot race
// socat. /proc/net/tcp lists the sandbox's own sockets: 0100007F:0C38 is 127.0.0.1:3128, 0A LISTEN.
const PORT_HEX = SANDBOX_RUNNER_PORT.toString(16).toUpperCase().padStart(4, '0');
const BRIDGE_LAUNCHER = `socat TCP-LISTEN:${SANDBOX_RUNNER_PORT},bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:${SANDBOX_RUNNER_SOCKET} &
n=0
until grep -q ' 0100007F:${PORT_HEX} 00000000:0000 0A' /proc/net/tcp; do
  n=$((n + 1))
  if [ "$n" -gt 5000 ]; then echo 'hangar sandbox: the bridge to the runner did not start' >&2; exit 125; fi
done
exec "$@"`;

// The command wrapped in bubblewrap: its own user, PID, IPC, UTS, cgroup and network namespaces,
// the system read-only, only its workspace and home writable, a private /tmp, no view of any
// other process or file, and an environment built from nothing (bwrap itself gets none either:
// its PID 1 inside would show it in /proc/1/environ).
export function sandboxCommand(inner: Command, run: SandboxRun, host: SandboxHost): Command {
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_GID),
    '--disable-userns',
    '--hostname',
    SANDBOX_HOSTNAME,
    '--die-with-parent',
    '--new-session',
    ...systemMounts(host),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--dir',
    '/var',
    '--tmpfs',
    '/var/tmp',
    ...hiddenMounts(host),
    ...(run.readOnlyPaths ?? []).flatMap((dir) => ['--ro-bind', dir, dir]),
    run.workspaceReadOnly ? '--ro-bind' : '--bind',
    run.workspace,
    SANDBOX_WORKSPACE,
    ...(run.hiddenWorkspacePaths ?? []).flatMap((relative) => {
      const inside = path.posix.join(SANDBOX_WORKSPACE, relative);
      if (!inside.startsWith(`${SANDBOX_WORKSPACE}/`)) throw new Error(`${relative} leaves the workspace`);
      if (!existsWithoutFollowing(path.join(run.workspace, relative))) return [];
      return ['--tmpfs', inside, '--remount-ro', inside];
    }),
    ...(run.gitDir ? ['--bind', run.gitDir, SANDBOX_GIT_DIR] : []),
    ...(run.home ? ['--bind', run.home, SANDBOX_HOME] : ['--tmpfs', SANDBOX_HOME]),
    ...(run.runnerSocket ? ['--ro-bind', run.runnerSocket, SANDBOX_RUNNER_SOCKET] : []),
    // What is left of the root (/etc, /run, the mount points) is the sandbox's own tmpfs: read-only.
    '--remount-ro',
    '/',
    '--chdir',
    run.cwd ?? SANDBOX_WORKSPACE,
    '--clearenv',
    ...Object.entries(inner.env).flatMap(([name, value]) => ['--setenv', name, value]),
    '--',
  ];
  const command = run.runnerSocket
    ? ['/bin/sh', '-c', BRIDGE_LAUNCHER, 'hangar-sandbox', inner.command, ...inner.args]
    : [inner.command, ...inner.args];
  return { command: host.bwrapPath, args: [...args, ...command], env: {} };
}

// Where a path the command sees (in its home or workspace) is on the host: files a CLI reads
// only from its home are written there by the runner before the start.
export function hostPathOf(insidePath: string, run: SandboxRun): string {
  for (const [inside, outside] of [
    [SANDBOX_HOME, run.home],
    [SANDBOX_WORKSPACE, run.workspace],
  ] as const) {
    if (outside && (insidePath === inside || insidePath.startsWith(`${inside}/`)))
      return path.join(outside, path.relative(inside, insidePath));
  }
  throw new Error(`${insidePath} is neither in the sandbox's home nor in its workspace`);
}

function systemMounts(host: SandboxHost): string[] {
  const mounts: string[] = [];
  for (const dir of SYSTEM_PATHS) {
    const link = linkTarget(dir);
    if (link === undefined) mounts.push('--ro-bind-try', dir, dir);
    else mounts.push('--symlink', link, dir);
  }
  mounts.push('--dir', '/etc');
  for (const entry of ETC_ENTRIES) mounts.push('--ro-bind-try', `/etc/${entry}`, `/etc/${entry}`);
  for (const [name, file] of Object.entries(host.etcFiles)) mounts.push('--ro-bind', file, `/etc/${name}`);
  return mounts;
}

// The runner's own files, where they lie inside a mounted system path (an install under /usr),
// are covered with an empty tmpfs.
function hiddenMounts(host: SandboxHost): string[] {
  return host.hiddenPaths
    .filter((hidden) => SYSTEM_PATHS.some((dir) => hidden === dir || hidden.startsWith(`${dir}/`)))
    .flatMap((hidden) => ['--tmpfs', hidden]);
}

function existsWithoutFollowing(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function linkTarget(file: string): string | undefined {
  try {
    return lstatSync(file).isSymbolicLink() ? readlinkSync(file) : undefined;
  } catch {
    return undefined;
  }
}
