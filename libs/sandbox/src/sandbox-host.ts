import { execFile } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ETC_ENTRIES,
  SANDBOX_GID,
  SANDBOX_HOME,
  SANDBOX_HOSTNAME,
  SANDBOX_UID,
  SYSTEM_PATHS,
} from './sandbox-layout';
import { linkTarget } from './link-target';
import { sandboxCommand } from './sandbox-command';

// What every sandbox of one runner shares: the bwrap binary, the sandbox's /etc, and the host
// paths no sandbox may see even where a system path holds them.
export interface SandboxHost {
  // The host's support files (and, for the runner, its socket).
  dir: string;
  bwrapPath: string;
  // The sandbox's /etc (writeSandboxEtc), mounted read-only whole.
  etcDir: string;
  hiddenPaths: string[];
}

export interface SandboxHostOptions {
  // Folder for the host's support files (and, for the runner, its socket). Default: a new
  // folder under the system's temporary directory (Unix socket paths must stay short).
  dir?: string;
  // PATH to look bwrap and socat up on.
  searchPath?: string;
  hiddenPaths?: readonly string[];
}

export class SandboxUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailable';
  }
}

export function prepareSandboxHost(options: SandboxHostOptions = {}): SandboxHost {
  const searchPath = options.searchPath ?? process.env['PATH'] ?? '/usr/bin:/bin';
  const bwrapPath = findExecutable('bwrap', searchPath);
  if (!bwrapPath)
    throw new SandboxUnavailable(
      'bubblewrap (bwrap) is not installed: apt-get install bubblewrap socat (Debian/Ubuntu)',
    );
  if (!findExecutable('socat', searchPath))
    throw new SandboxUnavailable('socat is not installed: apt-get install socat (Debian/Ubuntu)');
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'hangar-sbx-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const etcDir = writeSandboxEtc(dir);
  return { dir, bwrapPath, etcDir, hiddenPaths: [...(options.hiddenPaths ?? [])] };
}

// The sandbox's /etc, made once for all of a runner's sandboxes (a change to the host's /etc, new
// certificates say, reaches them when the runner starts again): of the host's /etc only
// ETC_ENTRIES, and of those only what every user of the host may read (not /etc/ssl/private: a
// runner running as root owns, inside, what root owns outside); its own passwd, group and hosts.
// One mount instead of one for each entry: bubblewrap reads the mount table again after each
// read-only bind, and the 20-odd binds of /etc were 40 % of a sandbox's start (~4 of ~10 ms of
// CPU, docs/benchmarks.md).
// A new folder in `parent` each time (etc-XXXXXX): one made before may be bound as the /etc of
// sandboxes still running.
export function writeSandboxEtc(parent: string, hostEtc = '/etc'): string {
  const etcDir = mkdtempSync(path.join(parent, 'etc-'));
  chmodSync(etcDir, 0o755);
  for (const entry of ETC_ENTRIES) {
    const source = path.join(hostEtc, entry);
    const target = path.join(etcDir, entry);
    const link = linkIntoSystem(source);
    if (link !== undefined) symlinkSync(link, target);
    // A link into the system stays one (/etc/localtime: what reads it learns the zone's name from
    // it; a copy, ICU in the Claude Code CLI's runtime compared with every zone file at each
    // start); an entry that links elsewhere is copied as what it leads to; links within a copied
    // folder stay as they are.
    else if (readableByAll(source))
      cpSync(realpathSync(source), target, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (file) => readableByAll(file, true),
      });
  }
  const own = {
    passwd: `agent:x:${SANDBOX_UID}:${SANDBOX_GID}:Hangar agent:${SANDBOX_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `agent:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`,
    hosts: `127.0.0.1 localhost ${SANDBOX_HOSTNAME}\n::1 localhost\n`,
  };
  for (const [name, content] of Object.entries(own))
    writeFileSync(path.join(etcDir, name), content, { mode: 0o644 });
  return etcDir;
}

// A link whose target lies in a system path the sandbox mounts: its text, to be made again.
function linkIntoSystem(file: string): string | undefined {
  const link = linkTarget(file);
  if (link === undefined) return undefined;
  const target = path.posix.resolve(path.posix.dirname(file), link);
  return SYSTEM_PATHS.some((dir) => target.startsWith(`${dir}/`)) ? link : undefined;
}

// Missing: false. A folder must be readable and searchable by others, a file readable; links
// (kept as they are, within a copied folder) always.
function readableByAll(file: string, ownLink = false): boolean {
  try {
    const stats = ownLink ? lstatSync(file) : statSync(file);
    if (stats.isSymbolicLink()) return true;
    return stats.isDirectory() ? (stats.mode & 0o005) === 0o005 : (stats.mode & 0o004) === 0o004;
  } catch {
    return false;
  }
}

// Starts one empty sandbox the way agents' sandboxes are made: some container runtimes forbid
// the namespaces bwrap needs, and a runner must know that before it takes a task.
export async function probeSandbox(host: SandboxHost): Promise<void> {
  const workspace = path.join(host.dir, 'probe-workspace');
  mkdirSync(workspace, { recursive: true });
  const probe = sandboxCommand(
    { command: '/bin/true', args: [], env: {} },
    { workspace, workspaceReadOnly: true },
    host,
  );
  await new Promise<void>((resolve, reject) => {
    execFile(probe.command, probe.args, { env: {}, timeout: 15_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const reason = stderr.trim().split('\n').at(-1) || error.message;
      reject(new SandboxUnavailable(`bubblewrap cannot make a sandbox here: ${reason}`));
    });
  });
}

export function findExecutable(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
