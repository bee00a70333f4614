import { readFileSync, writeFileSync } from 'node:fs';

// Linux's autogroups (kernel.sched_autogroup_enabled = 1, the default of many kernels): the
// scheduler first shares the CPU between sessions, each session's processes an autogroup of its
// own, and a process's niceness counts only within its autogroup. An agent is spawned in a new
// session (its own process group, for cancelling) and its sandbox makes another
// (bwrap --new-session): however niced the agent (RUNNER_AGENT_NICE), its session then weighed as
// much as the gateway's whole session, and two busy agents took two thirds of a 2-core machine
// from the platform. Measured (docs/performance.md): the gateway accepted 164–191 tasks/s beside
// two agents, 320–371/s once their autogroups were niced as the agents are. The autogroup's own
// niceness (`/proc/<pid>/autogroup`) is what counts between sessions: set here for every session
// of the agent's process tree, as its sessions appear. Processes in a cgroup of their own (a
// Kubernetes container, a systemd slice) are not autogrouped; this then does nothing. Asked for
// (RUNNER_AGENT_NICE_SESSIONS), not by default: a niced session yields to every busy session of
// the host, and beside CPU-bound jobs (a test suite's) agents starved.

const ENABLED = '/proc/sys/kernel/sched_autogroup_enabled';
let enabled: boolean | undefined;

function autogroupsOn(): boolean {
  if (enabled === undefined) {
    try {
      enabled = readFileSync(ENABLED, 'utf8').trim() === '1';
    } catch {
      enabled = false;
    }
  }
  return enabled;
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// `/autogroup-123 nice 0` → its name and niceness.
function autogroupOf(pid: number): { name: string; nice: number } | null {
  try {
    const [name, , nice] = readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim().split(/\s+/);
    return name === undefined ? null : { name, nice: Number(nice) };
  } catch {
    return null;
  }
}

// Nices the autogroup of each session under `root` (its own included): now, then every
// `everyMs` until one other than root's is niced (the sandbox's session) or `forMs` has passed
// (an agent with no sandbox has one). A write the kernel refuses for now (it allows an
// unprivileged process one such change per 100 ms) is tried again at the next look. Returns a
// stop function. Best effort: whatever fails leaves the agent as niced as it was.
export function niceAutogroups(
  root: number,
  nice: number,
  { everyMs = 20, forMs = 1000 }: { everyMs?: number; forMs?: number } = {},
): () => void {
  if (nice <= 0 || !autogroupsOn()) return () => undefined;
  const rootGroup = autogroupOf(root)?.name;
  let sandboxNiced = false;
  const look = () => {
    const pending = [root];
    for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
      pending.push(...children(pid));
      const group = autogroupOf(pid);
      if (!group) continue;
      if (group.nice !== nice) {
        try {
          writeFileSync(`/proc/${pid}/autogroup`, String(nice));
        } catch {
          continue; // gone, or refused for now
        }
      }
      if (group.name !== rootGroup) sandboxNiced = true;
    }
  };
  look();
  const started = Date.now();
  const timer = setInterval(() => {
    look();
    if (sandboxNiced || Date.now() - started >= forMs) clearInterval(timer);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
