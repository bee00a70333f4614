// The writes to a task's state, for @hangar/platform's TaskLifecycle alone (and tests' setup).
export {
  TaskStateStore,
  type ChildCreation,
  type ChosenCreation,
  type ChosenGate,
  type ChosenRow,
  type ChosenStatement,
} from './repositories/task-state.store';
