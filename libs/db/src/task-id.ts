import { randomBytes } from 'node:crypto';

// Task ids are lowercase cuid-like strings (Kubernetes names Jobs after them): the time in base
// 36, then randomness. Made here, not by the database, so a statement can create a task with the
// id known before (a workflow step's task is chosen before it exists).
export function newTaskId(): string {
  return `c${Date.now().toString(36)}${randomBytes(8).toString('hex')}`.slice(0, 25);
}
