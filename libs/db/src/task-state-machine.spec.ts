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
    expect(TaskStateMachine.isTerminal('FAILED')).toBe(true);
  });

  it('should list the guard states of a target state', () => {
    expect(TaskStateMachine.sourcesOf('CANCELLED').sort()).toEqual(['QUEUED', 'RUNNING']);
    expect(TaskStateMachine.sourcesOf('RUNNING')).toEqual(['QUEUED']);
  });
});
