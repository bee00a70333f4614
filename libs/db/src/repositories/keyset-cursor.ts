import { HangarError } from '@hangar/contracts';

// Opaque cursors for newest-first lists ordered by (time, id): a page after the cursor is
// "older than this row", so rows inserted meanwhile never shift the pages being walked.
export function encodeKeysetCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

export function decodeKeysetCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(at))) {
      return { at: new Date(at), id };
    }
  } catch {
    // falls through to the error below
  }
  throw new HangarError('INVALID_CURSOR', 'cursor is not one this API handed out; start again without it', {
    field: 'cursor',
  });
}

type After<F extends string> = { OR: [Record<F, { lt: Date }>, Record<F, Date> & { id: { lt: string } }] };

// The where-clause of "older than the cursor's row" on (field, id); empty without a cursor.
export function keysetAfter<F extends string>(
  field: F,
  cursor: string | undefined,
): After<F> | Record<string, never> {
  if (cursor === undefined) return {};
  const after = decodeKeysetCursor(cursor);
  return {
    OR: [
      { [field]: { lt: after.at } } as Record<F, { lt: Date }>,
      { [field]: after.at, id: { lt: after.id } } as Record<F, Date> & { id: { lt: string } },
    ],
  };
}

// `rows` fetched with take: limit + 1: the page, and the cursor to the next one (null on the last).
export function keysetPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  at: (row: T) => Date,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeKeysetCursor(at(last), last.id) : null };
}
