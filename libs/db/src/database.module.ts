import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { createPrismaClient } from './client';
import type { PrismaClient } from './generated/prisma/client';
import { AnalyticsRepository } from './repositories/analytics.repository';
import { ApiTokenRepository } from './repositories/api-token.repository';
import { AttemptTokenRepository } from './repositories/attempt-token.repository';
import { WarmPodRepository } from './repositories/warm-pod.repository';
import { ModelCallRepository } from './repositories/model-call.repository';
import { BudgetRepository } from './repositories/budget.repository';
import { ApprovalRepository } from './repositories/approval.repository';
import { AuditRepository } from './repositories/audit.repository';
import { ConversationRepository } from './repositories/conversation.repository';
import { ProjectGitHostRepository } from './repositories/project-git-host.repository';
import { ProjectRepository } from './repositories/project.repository';
import { SessionRepository } from './repositories/session.repository';
import { UserRepository } from './repositories/user.repository';
import { WebhookConfigRepository } from './repositories/webhook-config.repository';
import { WebhookDeliveryRepository } from './repositories/webhook-delivery.repository';
import { IdempotencyRepository } from './repositories/idempotency.repository';
import { ProfileRepository } from './repositories/profile.repository';
import { TaskDiffRepository } from './repositories/task-diff.repository';
import { TaskEventRepository } from './repositories/task-event.repository';
import { TaskAdmission } from './repositories/task-admission.store';
import { TaskSamples } from './repositories/task-samples.store';
import { TaskTelemetry } from './repositories/task-telemetry.store';
import { AlertStore } from './repositories/alert.store';
import { TaskStateStore } from './repositories/task-state.store';
import { TaskRepository } from './repositories/task.repository';
import { ProjectTaskCounts } from './repositories/project-task-counts';
import { WorkflowRunStore } from './repositories/workflow-run.store';
import { WorkflowRepository, WorkflowRunRepository } from './repositories/workflow.repository';

export const PRISMA = Symbol('PRISMA');

class PrismaLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async onApplicationShutdown() {
    await this.prisma.$disconnect();
  }
}

export class DatabaseHealth {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async check(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }
}

const REPOSITORIES = [
  TaskRepository,
  TaskEventRepository,
  ProfileRepository,
  ConversationRepository,
  TaskDiffRepository,
  IdempotencyRepository,
  ProjectRepository,
  ProjectGitHostRepository,
  UserRepository,
  SessionRepository,
  ApiTokenRepository,
  AuditRepository,
  WebhookConfigRepository,
  WebhookDeliveryRepository,
  AnalyticsRepository,
  AttemptTokenRepository,
  WarmPodRepository,
  ModelCallRepository,
  BudgetRepository,
  ApprovalRepository,
  WorkflowRepository,
  WorkflowRunRepository,
  WorkflowRunStore,
  TaskAdmission,
  ProjectTaskCounts,
  TaskSamples,
  TaskTelemetry,
  AlertStore,
] as const;

// Services get repositories, never the client: only libs/db speaks Prisma.
@Module({})
export class DatabaseModule {
  static forRoot(options: { databaseUrl: string; defaultTimeoutSeconds?: number }): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        { provide: PRISMA, useFactory: () => createPrismaClient(options.databaseUrl) },
        PrismaLifecycle,
        DatabaseHealth,
        {
          provide: TaskStateStore,
          inject: [PRISMA],
          useFactory: (prisma: PrismaClient) =>
            new TaskStateStore(prisma, { timeoutSeconds: options.defaultTimeoutSeconds ?? 600 }),
        },
        ...REPOSITORIES.map((repository) => ({
          provide: repository,
          inject: [PRISMA],
          useFactory: (prisma: PrismaClient) => new repository(prisma),
        })),
      ],
      exports: [TaskStateStore, ...REPOSITORIES, DatabaseHealth],
    };
  }
}
