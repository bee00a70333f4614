import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// `<prefix><40 letters and digits>`: 238 bits from the OS CSPRNG. Letters and digits only, so
// a double click selects it whole and a grep for the prefix finds it anywhere.
export function randomSecret(prefix: string, length = 40): string {
  let secret = prefix;
  for (let index = 0; index < length; index += 1) secret += ALPHABET[randomInt(ALPHABET.length)];
  return secret;
}

// Tokens and session ids carry 238 bits of entropy, so a plain sha256 is enough to store
// them (a slow hash is for guessable secrets: passwords).
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

// What listings show of a token: enough to tell tokens apart, useless to an attacker.
export function displayPrefix(token: string): string {
  return token.slice(0, 12);
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
