export * from './sandbox-layout';
export * from './sandbox-command';
export * from './sandbox-host';
