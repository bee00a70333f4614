import { lstatSync } from 'node:fs';
import path from 'node:path';
import {
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
import { linkTarget } from './link-target';
import type { SandboxHost } from './sandbox-host';

export interface Command {
  command: string;
  args: string[];
  env: Record<string, string>;
  // The process says it is up with a line on this descriptor (a pipe its starter opens), then
  // closes it: a sandbox started ahead of its task (SandboxRun.startedAhead).
  readyFd?: number;
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
  // Started before its task (a warm CLI): it says when it is up, on SANDBOX_READY_FD.
  startedAhead?: boolean;
}

// Where a sandbox started ahead of its task says it is up: its mounts made (its workspace may be
// moved from then on: a bind mount follows its folder, while bubblewrap, still starting, would no
// longer find it) and its bridge listening. A line, then the descriptor closed: what runs next
// (the CLI) does not hold it.
export const SANDBOX_READY_FD = 3;
const TELL_READY = `echo up >&${SANDBOX_READY_FD}; exec ${SANDBOX_READY_FD}>&-`;

// Waits until the bridge listens before the command starts, so its first request cannot race
// socat: socat's first notice (-d -d) says it listens, read from a pipe (no polling: a loop
// forking grep over /proc/net/tcp cost a task ~20 ms of CPU while the cores were busy). Lines
// before it (an error) go to stderr. socat goes on writing notices (a line per connection) to a
// pipe nobody reads any more: it ignores SIGPIPE itself, and takes the EPIPE in its stride. It
// does not hold SANDBOX_READY_FD (its reader would never see it close).
const BRIDGE = `{ socat -d -d TCP-LISTEN:${SANDBOX_RUNNER_PORT},bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:${SANDBOX_RUNNER_SOCKET} ${SANDBOX_READY_FD}>&- 2>&1 >/dev/null & } | {
  while read -r line; do
    case $line in *" N listening on "*) exit 0 ;; esac
    echo "$line" >&2
  done
  exit 1
} || { echo 'hangar sandbox: the bridge to the runner did not start' >&2; exit 125; }`;

// A spare sandbox's command, once it is told to run it: a script in the run's home
// (launchScript), sourced after one line on stdin. Stdin closed without it: the spare was let go.
export const SANDBOX_LAUNCH_FILE = '.hangar-launch';
const SPARE = `IFS= read -r go || exit 125
. ${SANDBOX_HOME}/${SANDBOX_LAUNCH_FILE}`;

// The command wrapped in bubblewrap: its own user, PID, IPC, UTS, cgroup and network namespaces,
// the system read-only, only its workspace and home writable, a private /tmp, no view of any
// other process or file, and an environment built from nothing (bwrap itself gets none either:
// its PID 1 inside would show it in /proc/1/environ).
export function sandboxCommand(inner: Command, run: SandboxRun, host: SandboxHost): Command {
  const launcher = [...(run.runnerSocket ? [BRIDGE] : []), ...(run.startedAhead ? [TELL_READY] : [])];
  const command =
    launcher.length > 0
      ? ['/bin/sh', '-c', `${launcher.join('\n')}\nexec "$@"`, 'hangar-sandbox', inner.command, ...inner.args]
      : [inner.command, ...inner.args];
  return {
    command: host.bwrapPath,
    args: [...bwrapArgs(run, host, inner.env), ...command],
    env: {},
    ...(run.startedAhead ? { readyFd: SANDBOX_READY_FD } : {}),
  };
}

// A sandbox started before its command is known (the runner's spare sandboxes,
// docs/performance.md): the same namespaces and mounts as sandboxCommand's, its bridge up, saying
// so on SANDBOX_READY_FD, waiting on stdin for the line that runs the script launchScript wrote
// in its home. Its environment comes with that script.
export function spareSandboxCommand(run: SandboxRun & { home: string }, host: SandboxHost): Command {
  const launcher = [...(run.runnerSocket ? [BRIDGE] : []), TELL_READY, SPARE].join('\n');
  return {
    command: host.bwrapPath,
    args: [...bwrapArgs(run, host, {}), '/bin/sh', '-c', launcher, 'hangar-sandbox'],
    env: {},
    readyFd: SANDBOX_READY_FD,
  };
}

// The script a spare sandbox runs: the command's environment, then the command in its place
// (exec: it keeps the sandbox's pid, stdin and output). Every value single-quoted, so nothing in
// an argument (a prompt) is read by the shell.
export function launchScript(inner: Command): string {
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  const exports = Object.entries(inner.env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${name} cannot be an environment variable`);
    return `export ${name}=${quote(value)}\n`;
  });
  return `${exports.join('')}exec ${[inner.command, ...inner.args].map(quote).join(' ')}\n`;
}

function bwrapArgs(run: SandboxRun, host: SandboxHost, env: Record<string, string>): string[] {
  return [
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
    ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
    '--',
  ];
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
  mounts.push('--ro-bind', host.etcDir, '/etc');
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
