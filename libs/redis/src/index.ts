export * from './redis-client';
export * from './task-event-stream';
export * from './task-event-log';
export * from './redis.module';
export * from './redis-transport';
export * from './topic-streams';
export * from './queues';
export * from './runner-registry';
