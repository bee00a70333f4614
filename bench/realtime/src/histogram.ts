// Delivery latencies in fixed 0.1 ms buckets up to 10 s (the last bucket holds the rest): small
// enough to send between processes, exact enough for p50/p99 against a 50 ms target.
export const BUCKET_MS = 0.1;
export const BUCKETS = 100_000;

export class Histogram {
  readonly counts: number[];

  constructor(counts?: number[]) {
    this.counts = counts ?? new Array<number>(BUCKETS).fill(0);
  }

  record(ms: number) {
    const bucket = Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)));
    this.counts[bucket]! += 1;
  }

  add(other: Histogram) {
    other.counts.forEach((count, bucket) => (this.counts[bucket]! += count));
  }

  get total(): number {
    return this.counts.reduce((sum, count) => sum + count, 0);
  }

  // The upper edge of the bucket holding the q-th quantile.
  quantile(q: number): number {
    const rank = Math.ceil(this.total * q);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank && seen > 0) return (bucket + 1) * BUCKET_MS;
    }
    return Number.NaN;
  }

  // Sparse form for IPC: [bucket, count] pairs.
  toPairs(): [number, number][] {
    const pairs: [number, number][] = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) pairs.push([bucket, count]);
    });
    return pairs;
  }

  static fromPairs(pairs: [number, number][]): Histogram {
    const histogram = new Histogram();
    for (const [bucket, count] of pairs) histogram.counts[bucket] = count;
    return histogram;
  }
}

// Wall-clock milliseconds with sub-millisecond precision, comparable between processes of one
// machine (each process's timeOrigin is the wall clock at its start).
export function now(): number {
  return performance.timeOrigin + performance.now();
}
