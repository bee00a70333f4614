// The writes to a workflow run and its steps, for the orchestrator's workflow engine alone.
export * from './repositories/workflow-run.store';
