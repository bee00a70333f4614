import { next } from '../src/modules/alerts/alert-evaluator.service';
import { judge, medianAndMad } from '../src/modules/alerts/anomaly-detector.service';

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, seconds));

describe('an alert rule from one evaluation to the next', () => {
  it('fires at once when it holds and has no for-duration', () => {
    expect(next({ state: 'inactive', stateSince: null, forSeconds: 0 }, true, at(0))).toEqual({
      state: 'firing',
      stateSince: at(0),
    });
  });

  it('waits pending for its for-duration, then fires; a break on the way starts it again', () => {
    const rule = { forSeconds: 30 };
    let state = next({ ...rule, state: 'inactive', stateSince: at(0) }, true, at(10));
    expect(state).toEqual({ state: 'pending', stateSince: at(10) });
    state = next({ ...rule, ...state }, true, at(39));
    expect(state).toEqual({ state: 'pending', stateSince: at(10) });
    expect(next({ ...rule, ...state }, false, at(39))).toEqual({ state: 'inactive', stateSince: at(39) });
    state = next({ ...rule, ...state }, true, at(40));
    expect(state).toEqual({ state: 'firing', stateSince: at(40) });
    // Firing stays firing (since it fired) while it holds, and resolves the first time it does not.
    expect(next({ ...rule, ...state }, true, at(50))).toEqual({ state: 'firing', stateSince: at(40) });
    expect(next({ ...rule, ...state }, false, at(50))).toEqual({ state: 'inactive', stateSince: at(50) });
  });

  it('keeps when it became inactive while it stays so', () => {
    expect(next({ state: 'inactive', stateSince: at(5), forSeconds: 0 }, false, at(50))).toEqual({
      state: 'inactive',
      stateSince: at(5),
    });
  });
});

describe('an anomaly against a baseline', () => {
  const settings = { ANOMALY_SCORE: 6, ANOMALY_MIN_RATIO: 3 };

  it('is a value many robust deviations above the median and a multiple of it', () => {
    // MAD 0.1: sigma ≈ 0.148; 20 is (20 − 1) / 0.148 ≈ 128 sigmas out.
    expect(judge(20, { median: 1, mad: 0.1 }, settings)).toBeCloseTo(19 / (1.4826 * 0.1), 6);
  });

  it('is not a value under the ratio, however narrow the baseline', () => {
    expect(judge(2.9, { median: 1, mad: 0.001 }, settings)).toBeNull();
  });

  it('is not a multiple of the median within a wide baseline', () => {
    // MAD 1: 4 is (4 − 1) / 1.48 ≈ 2 sigmas out.
    expect(judge(4, { median: 1, mad: 1 }, settings)).toBeNull();
  });

  it('is judged by the ratio alone when the baseline does not vary', () => {
    expect(judge(5, { median: 1, mad: 0 }, settings)).toBe(5);
    expect(judge(2, { median: 1, mad: 0 }, settings)).toBeNull();
  });
});

describe("an hour's baseline", () => {
  it('is the median and median absolute deviation of the hours before it, of any count', () => {
    // One far hour (10) moves neither.
    const wide = medianAndMad([0.4, 0.1, 0.3, 10]);
    expect(wide.median).toBeCloseTo(0.35, 12);
    expect(wide.mad).toBeCloseTo(0.15, 12);
    expect(wide.count).toBe(4);
    expect(medianAndMad([3, 1, 2])).toEqual({ median: 2, mad: 1, count: 3 });
    expect(medianAndMad([])).toEqual({ median: 0, mad: 0, count: 0 });
  });
});
