import type { z } from 'zod';

// What the four adapters share. It lives apart from provider-adapters.ts, which imports every
// adapter: were the adapters to import it back, loading one adapter first would see the registry
// half built.

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface Mention {
  word: string;
  args: string;
}

export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not JSON (${error instanceof Error ? error.message : String(error)})`, {
      cause: error,
    });
  }
  if (!isPlainObject(parsed)) throw new Error(`${what} is JSON but not an object`);
  return parsed;
}

export function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

// The fields an adapter reads, checked once; the message names the first field that is off so
// a failed delivery says what changed in the provider's payload.
export function readPayload<Schema extends z.ZodType>(
  schema: Schema,
  payload: Record<string, unknown>,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new Error(`unexpected ${what} payload${where}: ${issue?.message ?? 'invalid'}`);
}

export function withAction(name: string, action: string | undefined): string {
  return action === undefined || action === '' ? name : `${name}.${action}`;
}

// The prefix counts where it starts a word: at the start, or after whitespace or punctuation
// ("Thanks! @hangar fix"), and where it is not glued to more of a name ("me@hangar.io",
// "@hangarbot").
export function parseMention(text: string | null | undefined, prefix: string): Mention | undefined {
  if (text === null || text === undefined || prefix.length === 0) return undefined;
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const pattern = new RegExp(
    `(?<=^|[\\s\\p{P}\\p{S}])${escaped}(?![\\p{L}\\p{N}_]|[.\\-/][\\p{L}\\p{N}])`,
    'iu',
  );
  const found = pattern.exec(text);
  if (!found) return undefined;
  // "@hangar: fix this" and "@hangar, fix this" read as "@hangar fix this"; "thanks @hangar." asks nothing.
  return splitWord(text.slice(found.index + found[0].length).replace(/^[\s:,.;!?]+/, ''));
}

// The first whitespace-separated word, lowercased, and the rest (newlines kept).
export function splitWord(text: string): Mention {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text.trim());
  if (!match) return { word: '', args: '' };
  return { word: (match[1] ?? '').toLowerCase(), args: (match[2] ?? '').trim() };
}
