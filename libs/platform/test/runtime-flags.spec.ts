import { execFileSync } from 'node:child_process';
import { runtimeFlags } from '../src/runtime-flags';

describe('runtimeFlags', () => {
  it('keeps WebAssembly on its first tier for every service', () => {
    for (const profile of ['lean', 'throughput'] as const) {
      expect(runtimeFlags(profile, {})).toContain('--liftoff-only');
    }
  });

  // Set once node is running, as applyRuntimeFlags sets them: V8 ignores some flags then (it read
  // --max-semi-space-size when it set the heap up), so what counts is the heap a busy process has.
  function youngGenerationUnderLoad(profile: 'lean' | 'throughput'): number {
    const script = `
      const v8 = require('node:v8');
      for (const flag of JSON.parse(process.argv[1])) v8.setFlagsFromString(flag);
      let kept = [];
      for (let i = 0; i < 5e5; i += 1) { kept.push({ i, text: 'x' + i }); if (kept.length > 50000) kept = []; }
      const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
      process.stdout.write(String(young.space_size));`;
    return Number(
      execFileSync(process.execPath, ['-e', script, JSON.stringify(runtimeFlags(profile, {}))], {
        encoding: 'utf8',
      }),
    );
  }

  it('keeps the young generation at 2 × 1 MB in a busy lean process', () => {
    // V8's default grows it to 2 × 16 MB under this load.
    expect(youngGenerationUnderLoad('lean')).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  // Its objects live across a request's few milliseconds: a young generation kept small copies them
  // all into the old one, and collecting them took a quarter of the gateway's CPU.
  it('lets the young generation grow in a busy throughput process', () => {
    expect(youngGenerationUnderLoad('throughput')).toBeGreaterThanOrEqual(8 * 1024 * 1024);
  });

  it('trades speed for size only for the lean services', () => {
    expect(runtimeFlags('lean', {})).toContain('--optimize-for-size');
    expect(runtimeFlags('throughput', {})).not.toContain('--optimize-for-size');
  });

  it('lets HANGAR_V8_FLAGS replace them, and an empty one leave V8 at its defaults', () => {
    expect(runtimeFlags('lean', { HANGAR_V8_FLAGS: ' --max-semi-space-size=8   --liftoff-only ' })).toEqual([
      '--max-semi-space-size=8',
      '--liftoff-only',
    ]);
    expect(runtimeFlags('throughput', { HANGAR_V8_FLAGS: '' })).toEqual([]);
  });
});
