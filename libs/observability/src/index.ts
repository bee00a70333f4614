export * from './logger';
export * from './metrics';
export * from './health.module';
export * from './tracing';
export * from './trace-context';
