// The native argon2 module loads with the first password hashed or checked: services that only
// check API tokens never map it.
function argon2(): typeof import('@node-rs/argon2') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@node-rs/argon2') as typeof import('@node-rs/argon2');
}

// argon2id with the library's defaults (19 MiB, 2 passes, 1 lane): OWASP's minimum
// recommendation, about 40 ms here. The PHC string carries its parameters, so stronger ones
// later still verify old hashes.
export function hashPassword(password: string): Promise<string> {
  return argon2().hash(password);
}

let dummyHash: Promise<string> | undefined;

// Checks `password` against `passwordHash`; with no hash (unknown user) it still spends the
// same time on a dummy hash, so response times do not tell which emails exist.
export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  const { hash, verify } = argon2();
  if (passwordHash === null) {
    dummyHash ??= hash('hangar-dummy-password');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
