import { setTimeout as sleep } from 'node:timers/promises';
import { networkErrorReason } from '../api/network-error';

export interface HttpReadiness {
  url: string;
  // Also ready on 404: the server listens but has no health route (older scripted model).
  acceptNotFound?: boolean;
}

export class NotReady extends Error {
  constructor(
    readonly url: string,
    readonly lastObservation: string,
    timeoutMs: number,
  ) {
    super(`${url} was not ready within ${Math.round(timeoutMs / 1000)}s (last: ${lastObservation})`);
    this.name = 'NotReady';
  }
}

export async function checkHttp(readiness: HttpReadiness): Promise<{ ready: boolean; observation: string }> {
  try {
    const response = await fetch(readiness.url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    const ready = response.ok || (readiness.acceptNotFound === true && response.status === 404);
    return { ready, observation: `HTTP ${response.status}` };
  } catch (error) {
    return { ready: false, observation: networkErrorReason(error) };
  }
}

export async function waitForHttp(
  readiness: HttpReadiness,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const { ready, observation } = await checkHttp(readiness);
    if (ready) return;
    if (Date.now() >= deadline) throw new NotReady(readiness.url, observation, options.timeoutMs);
    await sleep(options.intervalMs ?? 250, undefined, { signal: options.signal });
  }
}
