export * from './validate-workflow';
