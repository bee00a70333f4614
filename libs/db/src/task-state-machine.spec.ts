import { TASK_STATUSES, isTerminalStatus } from '@hangar/contracts';
import { TaskStateMachine } from './task-state-machine';

describe('TaskStateMachine', () => {
  it('should allow the lifecycle arrows and the retry of a lost run', () => {
    expect(TaskStateMachine.canTransition('QUEUED', 'RUNNING')).toBe(true);
    expect(TaskStateMachine.canTransition('QUEUED', 'CANCELLED')).toBe(true);
    expect(TaskStateMachine.canTransition('QUEUED', 'FAILED')).toBe(true);
    expect(TaskStateMachine.canTransition('RUNNING', 'COMPLETED')).toBe(true);
    expect(TaskStateMachine.canTransition('RUNNING', 'QUEUED')).toBe(true);
  });

  it('should refuse to leave a terminal state or skip RUNNING', () => {
    expect(TaskStateMachine.canTransition('COMPLETED', 'RUNNING')).toBe(false);
    expect(TaskStateMachine.canTransition('CANCELLED', 'QUEUED')).toBe(false);
    expect(TaskStateMachine.canTransition('QUEUED', 'COMPLETED')).toBe(false);
  });

  it('should list the guard states of a target state', () => {
    expect(TaskStateMachine.sourcesOf('CANCELLED').sort()).toEqual(['QUEUED', 'RUNNING']);
    expect(TaskStateMachine.sourcesOf('RUNNING')).toEqual(['QUEUED']);
  });

  it('should have no way out of exactly the statuses the contracts call terminal', () => {
    for (const from of TASK_STATUSES) {
      const leaves = TASK_STATUSES.some((to) => TaskStateMachine.canTransition(from, to));
      expect({ from, terminal: !leaves }).toEqual({ from, terminal: isTerminalStatus(from) });
    }
  });
});
