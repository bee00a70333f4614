export * from './validate-workflow';
export * from './run-context';
export * from './engine';
export * from './templates';
