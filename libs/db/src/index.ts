// Model rows and Prisma enums stay inside libs/db: callers get @hangar/contracts types.
export {
  checkDatabase,
  createPrismaClient,
  Prisma,
  PrismaClient,
  type CheckDatabaseOptions,
  type CreatePrismaClientOptions,
} from './client';
export * from './migrate';
export {
  DatabaseUnreachableError,
  describeDatabase,
  parseDatabaseUrl,
  type DatabaseLocation,
} from './database-url';
export * from './task-state-machine';
export * from './task-id';
export * from './repositories/task.repository';
export * from './repositories/project-task-counts';
export * from './repositories/task-event.repository';
export * from './database.module';
export * from './repositories/profile.repository';
export * from './repositories/conversation.repository';
export * from './repositories/task-diff.repository';
export * from './repositories/idempotency.repository';
export * from './repositories/project.repository';
export * from './repositories/project-git-host.repository';
export * from './repositories/user.repository';
export * from './repositories/session.repository';
export * from './repositories/api-token.repository';
export * from './repositories/audit.repository';
export * from './repositories/webhook-config.repository';
export * from './repositories/webhook-delivery.repository';
export * from './repositories/analytics.repository';
export * from './repositories/attempt-token.repository';
export * from './repositories/warm-pod.repository';
export * from './repositories/model-call.repository';
export * from './repositories/budget.repository';
export * from './repositories/approval.repository';
export * from './repositories/workflow.repository';
export * from './repositories/task-admission.store';
export * from './repositories/task-samples.store';
export * from './repositories/task-telemetry.store';
export * from './repositories/alert.store';
export type { SqlTransaction } from './sql';
