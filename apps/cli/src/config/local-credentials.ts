import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomSecret } from '@hangar/auth';
import { API_TOKEN_PATTERN, API_TOKEN_PREFIX } from '@hangar/contracts';

// What `hangar up` makes on the first start of a local stack: the first administrator's
// sign-in and an admin API token, which the gateway registers and the CLI then uses.
export interface LocalCredentials {
  email: string;
  password: string;
  token: string;
}

export const LOCAL_ADMIN_EMAIL = 'admin@hangar.local';

export function credentialsPath(hangarHome: string): string {
  return path.join(hangarHome, 'credentials.json');
}

export function readLocalCredentials(hangarHome: string): LocalCredentials | undefined {
  const file = credentialsPath(hangarHome);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalCredentials>;
    if (
      typeof parsed.email === 'string' &&
      typeof parsed.password === 'string' &&
      typeof parsed.token === 'string' &&
      API_TOKEN_PATTERN.test(parsed.token)
    ) {
      return { email: parsed.email, password: parsed.password, token: parsed.token };
    }
  } catch {
    // unreadable: made again below
  }
  return undefined;
}

// Readable by this user only (0600).
export function ensureLocalCredentials(hangarHome: string): LocalCredentials {
  const existing = readLocalCredentials(hangarHome);
  if (existing) return existing;
  const created: LocalCredentials = {
    email: LOCAL_ADMIN_EMAIL,
    password: randomSecret('', 24),
    token: randomSecret(API_TOKEN_PREFIX),
  };
  mkdirSync(hangarHome, { recursive: true });
  const file = credentialsPath(hangarHome);
  writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return created;
}
