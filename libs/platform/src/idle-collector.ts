import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

// A service that has gone quiet gives back what its last work left behind. V8 collects an idle
// heap by itself only some 10–30 s later (its memory reducer starts 8 s after a full collection
// and only if allocation stays low), so a gateway or a runner stayed ~10–20 MB larger than it needs
// to between bursts. This collects once, within about two checks of the service going idle (its
// event loop busy less than `idleBelow` of a check's time), when the heap has grown by
// `growthBytes` since the last collection or its young generation is larger than that (the
// services run for throughput let it grow under load: ./runtime-flags.ts); a busy service is never
// collected here, and an idle one again only once there is as much to give back. The collection is
// the one V8 makes on a low-memory notification (compacting, shrinking the young generation back
// to its start, and returning the pages it frees to the system), asked for through the inspector
// protocol's `HeapProfiler.collectGarbage` in a session of the process's own (no port is opened):
// the `gc` of --expose-gc keeps the freed pages committed, and node offers no other way to ask.
export interface IdleCollectorOptions {
  everyMs?: number;
  idleBelow?: number;
  growthBytes?: number;
}

export function collectWhenIdle({
  everyMs = 500,
  idleBelow = 0.02,
  growthBytes = 4 * 1024 * 1024,
}: IdleCollectorOptions = {}): { stop(): void; collections(): number } {
  let collections = 0;
  let collecting = false;
  // Kept once made (nothing in it is enabled: it costs nothing between collections); disconnecting
  // from inside its own callback can hang the process.
  let session: Session | undefined;
  let afterLast = getHeapStatistics().used_heap_size;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    if (collecting || utilization >= idleBelow) return;
    const used = getHeapStatistics().used_heap_size;
    // V8's own collections lower it too: then there is less to give back.
    if (used < afterLast) afterLast = used;
    if (used - afterLast < growthBytes && youngGenerationBytes() <= growthBytes) return;
    collecting = true;
    if (!session) {
      session = new Session();
      session.connect();
    }
    session.post('HeapProfiler.collectGarbage', () => {
      collecting = false;
      collections += 1;
      afterLast = getHeapStatistics().used_heap_size;
      // The collection's own time is not the service's work.
      last = performance.eventLoopUtilization();
    });
  }, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      session?.disconnect();
    },
    collections: () => collections,
  };
}

function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}
