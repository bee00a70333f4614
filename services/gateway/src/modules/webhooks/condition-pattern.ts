import type { RE2JS } from 're2js';

// `matches` conditions run on text anyone can put in a payload: RE2 semantics match in time
// linear in the text (no catastrophic backtracking), and only this much of the text is read —
// GitHub's longest comment.
export const MATCHED_TEXT_LIMIT = 65_536;

// Throws RE2's own message for a pattern it cannot compile (backreferences, lookarounds …).
// re2js loads with the first pattern compiled (a receiver's condition), not with the gateway.
export function compilePattern(source: string): RE2JS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('re2js') as typeof import('re2js')).RE2JS.compile(source);
}

// Why a pattern cannot be used, or undefined.
export function patternError(source: string): string | undefined {
  try {
    compilePattern(source);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `not an RE2 regular expression (no backreferences or lookarounds): ${message}`;
  }
}

// Whether the pattern occurs anywhere in the first MATCHED_TEXT_LIMIT characters of the text.
export function patternFound(pattern: RE2JS, text: string): boolean {
  return pattern.test(text.length > MATCHED_TEXT_LIMIT ? text.slice(0, MATCHED_TEXT_LIMIT) : text);
}
