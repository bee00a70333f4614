import type { RunnerRecord } from '@hangar/contracts';
import {
  isLive,
  offers,
  performanceWeights,
  PoolChooser,
  poolsOf,
  unsatisfiedReason,
  type PoolLoad,
} from '../src/routing';

const NOW = 1_000_000;

function runner(id: string, pool: string, labels: string[], extra: Partial<RunnerRecord> = {}): RunnerRecord {
  return {
    id,
    pool,
    executor: 'process',
    labels: [...labels, `pool=${pool}`, 'executor=process'].sort(),
    providers: ['claude', 'codex'],
    slots: 2,
    running: 0,
    seenAt: NOW,
    intervalMs: 1000,
    ...extra,
  };
}

const pool = (name: string, labels: string[], load = 0, slots = 2): PoolLoad => ({
  name,
  labels,
  slots,
  load,
});

describe('pools from runner records', () => {
  it('offer what every runner of the pool offers, with their slots and load summed', () => {
    const [eu, gpu] = poolsOf([
      runner('a', 'gpu', ['gpu', 'large'], { running: 1 }),
      runner('b', 'gpu', ['gpu'], { providers: ['claude'], slots: 4 }),
      runner('c', 'eu', ['region=eu']),
    ]);
    expect(eu).toMatchObject({ name: 'eu', labels: ['executor=process', 'pool=eu', 'region=eu'], slots: 2 });
    // `large` is a's alone: a job on the pool's queue may land on b.
    expect(gpu).toMatchObject({
      labels: ['executor=process', 'gpu', 'pool=gpu'],
      providers: ['claude'],
      slots: 6,
      running: 1,
    });
  });

  it('satisfy a task when they offer every label it requires and its CLI', () => {
    const [gpu] = poolsOf([runner('a', 'gpu', ['gpu'])]);
    expect(offers(gpu!, { requires: ['gpu'], provider: 'claude' })).toBe(true);
    expect(offers(gpu!, { requires: ['gpu', 'pool=gpu'], provider: 'codex' })).toBe(true);
    expect(offers(gpu!, { requires: ['gpu', 'region=eu'], provider: 'claude' })).toBe(false);
    expect(offers(gpu!, { requires: [], provider: 'gemini' })).toBe(false);
    expect(
      unsatisfiedReason(poolsOf([runner('a', 'gpu', ['gpu'])]), { requires: ['tpu'], provider: 'claude' }),
    ).toBe(
      'no runner offers label tpu and the claude CLI (pools: gpu [executor=process, gpu, pool=gpu, claude, codex])',
    );
  });

  it('count a runner live until it has missed three registrations', () => {
    expect(isLive(runner('a', 'p', [], { seenAt: NOW - 2999 }), NOW)).toBe(true);
    expect(isLive(runner('a', 'p', [], { seenAt: NOW - 3001 }), NOW)).toBe(false);
  });
});

describe('PoolChooser', () => {
  it('round-robin takes each pool in turn, per scope', () => {
    const chooser = new PoolChooser();
    const pools = [pool('a', []), pool('b', []), pool('c', [])];
    const picks = Array.from({ length: 6 }, () => chooser.choose('round-robin', 'project:1', pools, []).name);
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    // Another scope starts its own rotation.
    expect(chooser.choose('round-robin', 'project:2', pools, []).name).toBe('a');
  });

  it('least-loaded takes the lowest load per slot', () => {
    const chooser = new PoolChooser();
    expect(chooser.choose('least-loaded', 's', [pool('a', [], 3, 4), pool('b', [], 1, 1)], []).name).toBe(
      'a',
    );
    expect(chooser.choose('least-loaded', 's', [pool('a', [], 3, 4), pool('b', [], 1, 2)], []).name).toBe(
      'b',
    );
  });

  it('capability takes the pool offering least beyond what is required, then the least loaded', () => {
    const chooser = new PoolChooser();
    const plain = pool('plain', ['pool=plain'], 5);
    const gpu = pool('gpu', ['gpu', 'pool=gpu'], 0);
    const gpuLarge = pool('gpu-large', ['gpu', 'large', 'pool=gpu-large'], 0);
    // A plain task leaves the GPU pools free even though they are idle.
    expect(chooser.choose('capability', 's', [plain, gpu, gpuLarge], []).name).toBe('plain');
    expect(chooser.choose('capability', 's', [gpu, gpuLarge], ['gpu']).name).toBe('gpu');
    const busyGpu = pool('gpu2', ['gpu', 'pool=gpu2'], 4);
    expect(chooser.choose('capability', 's', [busyGpu, gpu, gpuLarge], ['gpu']).name).toBe('gpu');
  });

  it('performance chooses each pool in proportion to its weight, interleaved', () => {
    const chooser = new PoolChooser();
    const pools = [pool('fast', []), pool('slow', [])];
    const picks = Array.from({ length: 8 }, () => chooser.choose('performance', 's', pools, [], [3, 1]).name);
    expect(picks.filter((name) => name === 'fast')).toHaveLength(6);
    expect(picks.slice(0, 4).sort()).toEqual(['fast', 'fast', 'fast', 'slow']);
  });
});

describe('performanceWeights', () => {
  it('weigh success rate (one success and one failure assumed) by speed against the median', () => {
    const [good, bad, fresh] = performanceWeights(
      ['good', 'bad', 'fresh'],
      [
        { pool: 'good', completed: 8, finished: 8, meanDurationMs: 10_000 },
        { pool: 'bad', completed: 0, finished: 8, meanDurationMs: 10_000 },
      ],
    );
    expect(good).toBeCloseTo(0.9);
    expect(bad).toBeCloseTo(0.1);
    expect(fresh).toBeCloseTo(0.5);
  });

  it('favour the faster of two equally reliable pools, at most fourfold', () => {
    const [fast, slow, crawl] = performanceWeights(
      ['fast', 'slow', 'crawl'],
      [
        { pool: 'fast', completed: 4, finished: 4, meanDurationMs: 5_000 },
        { pool: 'slow', completed: 4, finished: 4, meanDurationMs: 10_000 },
        { pool: 'crawl', completed: 4, finished: 4, meanDurationMs: 1_000_000 },
      ],
    );
    expect(fast! / slow!).toBeCloseTo(2);
    expect(slow! / crawl!).toBeCloseTo(4);
  });
});
