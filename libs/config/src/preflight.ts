export type PreflightCheck = () => Promise<void>;

// Before a service starts listening, each dependency must answer; otherwise it exits 1 with
// one line per unreachable dependency (the check's error message says which and where).
export async function preflight(service: string, checks: PreflightCheck[]): Promise<void> {
  const results = await Promise.allSettled(checks.map((check) => check()));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length === 0) return;
  for (const failure of failures) {
    const reason: unknown = failure.reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    process.stderr.write(`${service}: ${message.split('\n')[0]}\n`);
  }
  process.exit(1);
}
