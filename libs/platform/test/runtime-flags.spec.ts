import { runtimeFlags } from '../src/runtime-flags';

describe('runtimeFlags', () => {
  it('keeps WebAssembly on its first tier and the young generation small for every service', () => {
    for (const profile of ['lean', 'throughput'] as const) {
      expect(runtimeFlags(profile, {})).toEqual(
        expect.arrayContaining(['--liftoff-only', '--max-semi-space-size=1']),
      );
    }
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
