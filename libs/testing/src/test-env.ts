import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@hangar/config';

// Tests run against this machine's PostgreSQL and Redis; CI may point elsewhere through the usual variables.

export function baseDatabaseUrl(): string {
  return process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

export function redisUrl(): string {
  return process.env.REDIS_URL || DEFAULT_REDIS_URL;
}

// Lowercase letters, digits and underscores, so a label is safe in database names and Redis keys.
export function sanitizeLabel(label: string, maxLength: number): string {
  const cleaned = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return cleaned.slice(0, maxLength) || 'test';
}

export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

// A key prefix no other test file shares, e.g. `test:task_stream:1a2b3c4d` (no trailing colon:
// Hangar's Redis helpers add their own separator).
export function uniqueRedisPrefix(label: string): string {
  return `test:${sanitizeLabel(label, 40)}:${randomSuffix()}`;
}
