export * from './agent-provider';
export * from './agent-invocation';
export {
  type AgentOutputParser,
  type AgentOutputParserOptions,
  JsonLinesParser,
  type JsonObject,
} from './agent-output.parser';
export { DEFAULT_MAX_EVENT_BYTES } from './line-splitter';
export * from './agent-adapter';
export * from './output-schema';
export * from './scripted-model/scripted-model.server';
export * from './scripted-model/scenario.loader';
export * from './scripted-model/scenario.schema';
export * from './scripted-model/scenario.template';
export * from './scripted-model/scenario-marker';
export * from './scripted-model/scenario-usage';
export { MODEL_APIS, type ModelApi } from './scripted-model/model-protocol';
export * from './claude/claude-binary';
export * from './claude/claude-invocation';
export * from './claude/claude-home';
export * from './claude/claude-stream.parser';
export * from './claude/approval-rules';
export * from './codex/codex-binary';
export * from './codex/codex-invocation';
export * from './codex/codex-stream.parser';
export * from './gemini/gemini-binary';
export * from './gemini/gemini-invocation';
export * from './gemini/gemini-stream.parser';
export * from './runtime/agent-process';
export * from './runtime/agent-result';
export * from './runtime/agent-runtime-paths';
export {
  listDescendants,
  processesWorkingIn,
  signalProcesses,
  type ProcessIdentity,
} from './runtime/process-tree';
export * from './pricing';
export * from './model-usage';
export * from './rate-limits';
