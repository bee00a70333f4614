export { createTestDatabase, type TestDatabase } from './test-database';
export { baseDatabaseUrl, redisUrl, uniqueRedisPrefix } from './test-env';
export * from './service-stack';
export * from './prometheus';
export * from './alertmanager';
export * from './bare-claude';
