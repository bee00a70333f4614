import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { collectWhenIdle } from '../src/idle-collector';

const MB = 1024 * 1024;

// Garbage the heap keeps until something collects it: ~40 MB of small objects, already unreachable.
function leaveGarbage(): void {
  let kept: { index: number; text: string }[] = [];
  for (let index = 0; index < 400_000; index += 1) kept.push({ index, text: `entry ${index}` });
  kept = [];
  void kept;
}

// Resolves once `condition` holds, checked after every turn of the timers.
function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setTimeout(check, 10));
    check();
  });
}

describe('collectWhenIdle', () => {
  it('gives back the garbage of past work once the service is idle, and only once', async () => {
    const collector = collectWhenIdle({ everyMs: 50 });
    try {
      leaveGarbage();
      const before = getHeapStatistics().used_heap_size;
      await until(() => collector.collections() === 1);
      expect(before - getHeapStatistics().used_heap_size).toBeGreaterThan(8 * MB);

      // Still idle, nothing new to give back: no second collection over six more checks (waiting
      // for something not to happen is the point here).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(collector.collections()).toBe(1);
    } finally {
      collector.stop();
    }
  });

  // A service run for throughput lets its young generation grow under load (runtime-flags.ts).
  it('gives back a young generation grown under load once the service is idle', async () => {
    const young = () =>
      getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!.space_size;
    // Objects that live across a few scavenges, as a request's do: V8 grows the young generation.
    let kept: { index: number; text: string }[] = [];
    for (let index = 0; index < 2_000_000; index += 1) {
      kept.push({ index, text: `entry ${index}` });
      if (kept.length > 50_000) kept = [];
    }
    kept = [];
    expect(young()).toBeGreaterThan(4 * MB);
    const collector = collectWhenIdle({ everyMs: 50 });
    try {
      await until(() => collector.collections() >= 1);
      expect(young()).toBeLessThanOrEqual(2 * MB);
    } finally {
      collector.stop();
    }
  });

  it('leaves a busy service alone, however much garbage it makes', async () => {
    const collector = collectWhenIdle({ everyMs: 50 });
    try {
      // Work in 20 ms slices, with a turn of the event loop between them (as requests come): the
      // loop is busy for nearly all of each check's time.
      const end = Date.now() + 600;
      await new Promise<void>((resolve) => {
        const slice = () => {
          const sliceEnd = Date.now() + 20;
          while (Date.now() < sliceEnd) leaveGarbage();
          if (Date.now() < end) setImmediate(slice);
          else resolve();
        };
        slice();
      });
      expect(collector.collections()).toBe(0);
    } finally {
      collector.stop();
    }
  });
});
