// Linux's autogroups (kernel.sched_autogroup_enabled, on by default in most distributions) put
// each session in a scheduling group of its own and share the CPU between those groups first: a
// process's niceness then only orders it against its own session. An agent CLI runs in sessions
// of its own (spawned detached; bubblewrap's --new-session), so its niceness alone would not
// make it yield to the platform's services on a shared host (docs/benchmarks.md measured it).
// These lines, run by the session's first process (a shell, before it execs the command), give
// the session's group the niceness too. /proc/self/autogroup is absent where the kernel has no
// autogroups (nothing to do there). Without CAP_SYS_ADMIN the kernel lets one group's niceness
// be set per 100 ms on the whole machine (EAGAIN otherwise): tried for up to 200 ms.
export function sessionNiceScript(nice: number): string {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error(`niceness ${nice} is not 0 to 19`);
  return `if [ -w /proc/self/autogroup ]; then
  tries=0
  until echo ${nice} > /proc/self/autogroup 2>/dev/null || [ "$tries" -ge 10 ]; do tries=$((tries + 1)); sleep 0.02; done
fi`;
}
