import { randomBytes } from 'node:crypto';

// Ids for rows Hangar's own statements insert (Prisma made cuids for them before): a letter
// naming the kind of row, the time in base 36, then randomness. Lowercase, and ordered by time
// like the cuids (a listing by time ties on the id).
export function timeOrderedId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
}

// Task ids (Kubernetes names Jobs after them, so at most 25 characters). Made here, not by the
// database, so a statement can create a task with the id known before (a workflow step's task is
// chosen before it exists).
export function newTaskId(): string {
  return timeOrderedId('c').slice(0, 25);
}
