export { createTestDatabase, type TestDatabase } from './test-database';
export { baseDatabaseUrl, redisUrl, uniqueRedisPrefix } from './test-env';
export * from './service-stack';
export * from './prometheus';
export * from './bare-claude';
