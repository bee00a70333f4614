import { firstLine } from './format-values';

// Control characters (C0 but tab and newline, DEL, C1) and the bidirectional controls: from an
// agent's text they could move the cursor, rewrite lines already printed, retitle the window or
// show a command in another order than it runs.
const UNSAFE = /(?![\t\n])[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

// Text someone else wrote (an agent's tool input, a message), made safe to print: each unsafe
// character is shown as its escape (`\u001b`), so nothing hidden acts and nothing is lost. In
// JSON text the escape reads back as the same character.
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

// The same, kept to one line of a table or a sentence: the first line, tabs as spaces.
export function escapedLine(text: string): string {
  return firstLine(escapeControls(text)).replace(/\t/g, ' ');
}
