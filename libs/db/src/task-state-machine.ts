import type { TaskStatus } from '@hangar/contracts';

// The one definition of which task transitions exist. RUNNING → QUEUED is the retry of a task
// whose runner was lost; QUEUED → FAILED is a task whose Job could not start (no node would
// take it, its image cannot be pulled); every other arrow is the lifecycle in docs/architecture.md.
const TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  QUEUED: ['RUNNING', 'CANCELLED', 'FAILED'],
  RUNNING: ['COMPLETED', 'FAILED', 'CANCELLED', 'QUEUED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export const TaskStateMachine = {
  canTransition(from: TaskStatus, to: TaskStatus): boolean {
    return TRANSITIONS[from].includes(to);
  },
  // The states a task may be in for a move to `to`: the guard of the guarded UPDATE.
  sourcesOf(to: TaskStatus): TaskStatus[] {
    return (Object.keys(TRANSITIONS) as TaskStatus[]).filter((from) => TRANSITIONS[from].includes(to));
  },
};
