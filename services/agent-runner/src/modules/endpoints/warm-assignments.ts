import { Injectable } from '@nestjs/common';

// Wakes a warm pod's wait for an assignment (the task API) as soon as the controller of this
// process gives its Job an attempt. A wait answered by another replica finds the assignment at its
// next look in the database instead (WARM_POLL_MS).
@Injectable()
export class WarmAssignments {
  private readonly waiters = new Map<string, Set<() => void>>();

  assigned(jobName: string): void {
    for (const wake of this.waiters.get(jobName) ?? []) wake();
  }

  // Resolves when `jobName` is given an attempt here, after `ms`, or when `signal` aborts.
  wait(jobName: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(jobName) ?? new Set();
      this.waiters.set(jobName, waiters);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(jobName) === waiters) this.waiters.delete(jobName);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      waiters.add(done);
    });
  }
}
