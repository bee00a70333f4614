export * from './scripted-model/scripted-model.server';
export * from './scripted-model/scenario.loader';
export * from './scripted-model/scenario.schema';
export * from './scripted-model/scenario.template';
export * from './claude/claude-binary';
export * from './claude/claude-invocation';
export * from './claude/claude-stream.parser';
export * from './claude/agent-process';
export * from './claude/agent-result';
export {
  listDescendants,
  processesWorkingIn,
  signalProcesses,
  type ProcessIdentity,
} from './claude/process-tree';
