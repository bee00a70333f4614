import { rollupSegments, type RollupSegment } from '../src';

const at = (iso: string) => new Date(iso);
const shown = (segments: RollupSegment[]) =>
  segments.map(({ width, from, to }) => `${width} ${from.toISOString()} ${to.toISOString()}`);

// Analytics read a range from the rollups (docs/observability.md): whole months and days from the
// per-month and per-day rows, the ends from finer ones, every instant of the range in exactly one segment.
describe(rollupSegments.name, () => {
  it('should read whole days from days, the hours and minutes at the ends from finer rollups', () => {
    expect(
      shown(rollupSegments(at('2026-03-01T22:30:00Z'), at('2026-03-04T01:15:00Z'), 'day', 'minute')),
    ).toEqual([
      'minute 2026-03-01T22:30:00.000Z 2026-03-01T23:00:00.000Z',
      'hour 2026-03-01T23:00:00.000Z 2026-03-02T00:00:00.000Z',
      'day 2026-03-02T00:00:00.000Z 2026-03-04T00:00:00.000Z',
      'hour 2026-03-04T00:00:00.000Z 2026-03-04T01:00:00.000Z',
      'minute 2026-03-04T01:00:00.000Z 2026-03-04T01:15:00.000Z',
    ]);
  });

  it('should take the minutes that overlap the range, and no day for hourly buckets', () => {
    expect(
      shown(rollupSegments(at('2026-03-01T09:30:20Z'), at('2026-03-02T16:00:00.001Z'), 'hour', 'minute')),
    ).toEqual([
      'minute 2026-03-01T09:30:00.000Z 2026-03-01T10:00:00.000Z',
      'hour 2026-03-01T10:00:00.000Z 2026-03-02T16:00:00.000Z',
      'minute 2026-03-02T16:00:00.000Z 2026-03-02T16:01:00.000Z',
    ]);
  });

  it('should read to the hour where the minutes are gone, and a short range from minutes alone', () => {
    expect(
      shown(rollupSegments(at('2026-03-01T09:30:00Z'), at('2026-03-03T10:10:00Z'), 'day', 'hour')),
    ).toEqual([
      'hour 2026-03-01T09:00:00.000Z 2026-03-02T00:00:00.000Z',
      'day 2026-03-02T00:00:00.000Z 2026-03-03T00:00:00.000Z',
      'hour 2026-03-03T00:00:00.000Z 2026-03-03T11:00:00.000Z',
    ]);
    expect(
      shown(rollupSegments(at('2026-03-01T09:30:00Z'), at('2026-03-01T09:45:00Z'), 'day', 'minute')),
    ).toEqual(['minute 2026-03-01T09:30:00.000Z 2026-03-01T09:45:00.000Z']);
    // Hourly buckets where only days are left: hours still (empty), never a day's sums.
    expect(
      shown(rollupSegments(at('2026-03-01T09:30:00Z'), at('2026-03-01T11:00:00Z'), 'hour', 'day')),
    ).toEqual(['hour 2026-03-01T09:00:00.000Z 2026-03-01T11:00:00.000Z']);
  });

  it('should cover a year with a handful of segments, each instant once', () => {
    const from = at('2025-03-04T00:00:00Z');
    const to = at('2026-03-04T00:00:00Z');
    const segments = rollupSegments(from, to, 'day', 'minute');
    expect(shown(segments)).toEqual(['day 2025-03-04T00:00:00.000Z 2026-03-04T00:00:00.000Z']);
    const odd = rollupSegments(at('2025-03-04T07:13:00Z'), at('2026-03-04T19:47:00Z'), 'day', 'minute');
    for (let i = 1; i < odd.length; i += 1) expect(odd[i]!.from).toEqual(odd[i - 1]!.to);
    expect(odd[0]!.from).toEqual(at('2025-03-04T07:13:00Z'));
    expect(odd.at(-1)!.to).toEqual(at('2026-03-04T19:47:00Z'));
    expect(odd).toHaveLength(5);
  });

  it('should read whole calendar months from months, when the buckets allow them', () => {
    // February 2028 has 29 days; the range's days at each end come from the days.
    expect(
      shown(rollupSegments(at('2028-01-20T06:00:00Z'), at('2028-04-02T00:00:00Z'), 'month', 'hour')),
    ).toEqual([
      'hour 2028-01-20T06:00:00.000Z 2028-01-21T00:00:00.000Z',
      'day 2028-01-21T00:00:00.000Z 2028-02-01T00:00:00.000Z',
      'month 2028-02-01T00:00:00.000Z 2028-04-01T00:00:00.000Z',
      'day 2028-04-01T00:00:00.000Z 2028-04-02T00:00:00.000Z',
    ]);
    // A range within one month: no month, days and the finer ends as before.
    expect(
      shown(rollupSegments(at('2028-02-03T00:00:00Z'), at('2028-02-29T12:00:00Z'), 'month', 'minute')),
    ).toEqual([
      'day 2028-02-03T00:00:00.000Z 2028-02-29T00:00:00.000Z',
      'hour 2028-02-29T00:00:00.000Z 2028-02-29T12:00:00.000Z',
    ]);
    // A year to the minute: 11 months and what is left at its ends, each instant once.
    const year = rollupSegments(at('2025-03-04T07:13:00Z'), at('2026-03-04T19:47:00Z'), 'month', 'minute');
    expect(year.filter((segment) => segment.width === 'month')).toEqual([
      { width: 'month', from: at('2025-04-01T00:00:00Z'), to: at('2026-03-01T00:00:00Z') },
    ]);
    for (let i = 1; i < year.length; i += 1) expect(year[i]!.from).toEqual(year[i - 1]!.to);
    expect(year[0]!.from).toEqual(at('2025-03-04T07:13:00Z'));
    expect(year.at(-1)!.to).toEqual(at('2026-03-04T19:47:00Z'));
    expect(year).toHaveLength(7);
  });
});
