export * from './sandbox-layout';
export * from './sandbox-command';
export * from './sandbox-host';
export * from './agent-files';
