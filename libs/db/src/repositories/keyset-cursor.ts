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
