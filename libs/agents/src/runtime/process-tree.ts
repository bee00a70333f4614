import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';

// A process as seen in /proc; the start time tells a live process from a reused pid.
export interface ProcessIdentity {
  pid: number;
  pgid: number;
  startTime: string;
}

interface ProcStat extends ProcessIdentity {
  ppid: number;
  state: string;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || !Number.isInteger(ppid) || !Number.isInteger(pgid) || startTime === undefined) {
    return undefined;
  }
  return { pid, ppid, pgid, startTime, state };
}

function readAllStats(): ProcStat[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const stats: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.push(stat);
  }
  return stats;
}

// Every descendant of `rootPid`, wherever it went (Claude Code runs its shells with setsid,
// so they leave the CLI's process group). Empty where /proc does not exist.
export function listDescendants(rootPid: number): ProcessIdentity[] {
  const children = new Map<number, ProcStat[]>();
  for (const stat of readAllStats() ?? []) {
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(stat);
    children.set(stat.ppid, siblings);
  }
  const found: ProcessIdentity[] = [];
  const queue = [rootPid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push({ pid: child.pid, pgid: child.pgid, startTime: child.startTime });
      queue.push(child.pid);
    }
  }
  return found;
}

export function isSameProcess(identity: ProcessIdentity): boolean {
  return readStat(identity.pid)?.startTime === identity.startTime;
}

// Still running: the same process (not a reused pid), and not a zombie.
export function isRunning(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat?.startTime === identity.startTime && stat.state !== 'Z';
}

// Signals each still-living process and the groups they lead; errors (already gone) are ignored.
export function signalProcesses(processes: readonly ProcessIdentity[], signal: NodeJS.Signals): void {
  const alive = processes.filter(isSameProcess);
  const leaders = alive.filter((member) => member.pid === member.pgid);
  for (const leader of leaders) trySignal(-leader.pid, signal);
  for (const member of alive) trySignal(member.pid, signal);
}

export function trySignal(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

// Zombies do not count: they still answer kill(-pgid, 0) until whoever inherited them reaps
// them, which a container's init may do late (or, as a plain node PID 1, never).
export function isGroupAlive(pgid: number): boolean {
  if (!trySignal(-pgid, 0)) return false;
  const stats = readAllStats();
  if (!stats) return true;
  return stats.some((stat) => stat.pgid === pgid && stat.state !== 'Z');
}

// Live processes whose working directory is `dir` or below it: an agent still working in a
// task's workspace and the commands it started, wherever they moved in the process tree, and
// inside a sandbox too (where the workspace is a bind mount at another path: /workspace).
export function processesWorkingIn(dir: string): ProcessIdentity[] {
  let target: Location | undefined;
  let ownNamespace: string;
  try {
    const real = realpathSync(dir);
    target = locate(real, readFileSync('/proc/self/mountinfo', 'utf8'));
    ownNamespace = readlinkSync('/proc/self/ns/mnt');
  } catch {
    return [];
  }
  const root = path.resolve(dir);
  return (readAllStats() ?? []).filter((stat) => {
    if (stat.state === 'Z' || stat.pid === process.pid) return false;
    try {
      const cwd = readlinkSync(`/proc/${stat.pid}/cwd`);
      if (readlinkSync(`/proc/${stat.pid}/ns/mnt`) === ownNamespace)
        return cwd === root || cwd.startsWith(root + path.sep);
      // Another mount namespace: where its cwd really is, from its own mount table.
      const seen = locate(cwd, readFileSync(`/proc/${stat.pid}/mountinfo`, 'utf8'));
      return (
        seen !== undefined &&
        target !== undefined &&
        seen.device === target.device &&
        (seen.path === target.path || seen.path.startsWith(`${target.path}/`))
      );
    } catch {
      return false;
    }
  });
}

// A path as (filesystem, path inside that filesystem): the same place whatever mount shows it.
interface Location {
  device: string;
  path: string;
}

// From /proc/<pid>/mountinfo: the mount holding `file` (the longest mount point above it; a
// later line over the same point hides an earlier one), and where `file` is in its filesystem.
function locate(file: string, mountinfo: string): Location | undefined {
  let best: { device: string; root: string; mountPoint: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const [device, root, mountPoint] = [fields[2], fields[3], fields[4]].map((field) =>
      field?.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    );
    if (device === undefined || root === undefined || mountPoint === undefined) continue;
    const holds = mountPoint === '/' || file === mountPoint || file.startsWith(`${mountPoint}/`);
    if (holds && (!best || mountPoint.length >= best.mountPoint.length)) best = { device, root, mountPoint };
  }
  if (!best) return undefined;
  return {
    device: best.device,
    path: path.posix.join(best.root, path.posix.relative(best.mountPoint, file)),
  };
}
