// PostgreSQL's text and jsonb cannot hold NUL (U+0000). Text Hangar must keep whatever it holds
// (what an agent printed, what a provider signed) is stored with each NUL as U+FFFD, the
// character a reader shows for what it cannot decode; text a client sends is refused instead.
export const NUL = '\u0000';

export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes(NUL) ? value.replaceAll(NUL, '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [withoutNul(key), withoutNul(item)]),
  ) as T;
}

// Orders strings by their UTF-16 code units, as `Array.prototype.sort` does by default. Hangar
// sorts ids, names and timestamps with it rather than `localeCompare`: the first collation a
// process makes loads ICU's collation data, ~3 MB more resident memory in every service
// (docs/performance.md, "Small services"), for an order no reader of these lists needs.
export function byCodeUnit(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
