import { randomFillSync } from 'node:crypto';

// Ids for rows Hangar's own statements insert (Prisma made cuids for them before): a letter
// naming the kind of row, the time in base 36, then randomness. Lowercase, and ordered by time
// like the cuids (a listing by time ties on the id).
export function timeOrderedId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomHex(8)}`;
}

// Random bytes drawn from the system's generator 4 KiB at a time, as crypto.randomUUID does: a
// randomBytes(8) for each id (a task and its audit entry per accepted task) was a call into
// OpenSSL and a Buffer each, ~1.5 % of the gateway's CPU under the accept load.
const pool = Buffer.alloc(4096);
let drawn = pool.length;

function randomHex(bytes: number): string {
  if (drawn + bytes > pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  drawn += bytes;
  return pool.toString('hex', drawn - bytes, drawn);
}

// Task ids (Kubernetes names Jobs after them, so at most 25 characters). Made here, not by the
// database, so a statement can create a task with the id known before (a workflow step's task is
// chosen before it exists).
export function newTaskId(): string {
  return timeOrderedId('c').slice(0, 25);
}
