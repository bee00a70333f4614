import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SANDBOX_GID, SANDBOX_HOME, SANDBOX_HOSTNAME, SANDBOX_UID } from './sandbox-layout';
import { sandboxCommand } from './sandbox-command';

// What every sandbox of one runner shares: the bwrap binary, the sandbox's own /etc/passwd,
// group and hosts, and the host paths no sandbox may see even where a system path holds them.
export interface SandboxHost {
  // The host's support files (and, for the runner, its socket).
  dir: string;
  bwrapPath: string;
  // /etc/<name> inside → file on the host.
  etcFiles: Record<string, string>;
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
  const etcFiles = {
    passwd: writeSupportFile(
      dir,
      'passwd',
      `agent:x:${SANDBOX_UID}:${SANDBOX_GID}:Hangar agent:${SANDBOX_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    ),
    group: writeSupportFile(dir, 'group', `agent:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`),
    hosts: writeSupportFile(dir, 'hosts', `127.0.0.1 localhost ${SANDBOX_HOSTNAME}\n::1 localhost\n`),
  };
  return { dir, bwrapPath, etcFiles, hiddenPaths: [...(options.hiddenPaths ?? [])] };
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

function writeSupportFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content, { mode: 0o644 });
  return file;
}
