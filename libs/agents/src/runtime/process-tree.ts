import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
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
// inside a sandbox too (where the workspace is mounted elsewhere: /workspace).
export function processesWorkingIn(dir: string): ProcessIdentity[] {
  let target: { dev: number; ino: number };
  try {
    target = statSync(dir);
  } catch {
    return [];
  }
  return (readAllStats() ?? []).filter((stat) => {
    if (stat.state === 'Z' || stat.pid === process.pid) return false;
    try {
      // The cwd as the process sees it; each folder up from it is looked up through the
      // process's own root (/proc/<pid>/root), so a bind mount is recognised by its inode.
      const cwd = readlinkSync(`/proc/${stat.pid}/cwd`);
      for (let folder = cwd; ; folder = path.dirname(folder)) {
        const seen = statSync(`/proc/${stat.pid}/root${folder}`);
        if (seen.dev === target.dev && seen.ino === target.ino) return true;
        if (folder === path.dirname(folder)) return false;
      }
    } catch {
      return false;
    }
  });
}
