export * from './redis-client';
export * from './task-event-stream';
