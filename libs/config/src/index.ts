export * from './load-config';
export * from './common';
export * from './preflight';
export * from './process-env';
