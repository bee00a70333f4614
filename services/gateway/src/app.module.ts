import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { PlatformModule } from '@hangar/platform';
import { AuditInterceptor } from './common/audit.interceptor';
import { AuditTrail } from './common/audit-trail';
import { LiveSockets } from './common/live-sockets';
import { IdempotencyInterceptor } from './common/idempotency.interceptor';
import { RequestContextMiddleware } from './common/request-context.middleware';
import { ProblemFilter } from './common/problem.filter';
import { RequestValidationPipe } from './common/request-validation.pipe';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { orchestratorClientModule } from './modules/tasks/orchestrator-client';
import { AnalyticsModule } from './modules/analytics/analytics.module';
import { AuditModule } from './modules/audit/audit.module';
import { AuthModule } from './modules/auth/auth.module';
import { ConversationsModule } from './modules/conversations/conversations.module';
import { DelegationModule } from './modules/delegation/delegation.module';
import { ProjectsModule } from './modules/projects/projects.module';
import { TokensModule } from './modules/tokens/tokens.module';
import { UsersModule } from './modules/users/users.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';
import { ProfilesModule } from './modules/profiles/profiles.module';
import { ApprovalsModule } from './modules/approvals/approvals.module';
import { BudgetsModule } from './modules/budgets/budgets.module';
import { AlertsModule } from './modules/alerts/alerts.module';
import { RunnersModule } from './modules/runners/runners.module';
import { TasksModule } from './modules/tasks/tasks.module';
import { WorkflowsModule } from './modules/workflows/workflows.module';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        PlatformModule.forRoot('gateway', config, {
          defaultTimeoutSeconds: config.DEFAULT_TASK_TIMEOUT_SECONDS,
        }),
        { ...orchestratorClientModule(config.REDIS_URL, config.HANGAR_REDIS_PREFIX), global: true },
        RateLimitModule.forRoot(config),
        AuthModule,
        TasksModule,
        ProfilesModule,
        BudgetsModule,
        AlertsModule,
        ApprovalsModule,
        ConversationsModule,
        ProjectsModule,
        UsersModule,
        TokensModule,
        AuditModule,
        WebhooksModule,
        AnalyticsModule,
        RunnersModule,
        WorkflowsModule,
        DelegationModule,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        AuditTrail,
        LiveSockets,
        { provide: APP_PIPE, useClass: RequestValidationPipe },
        { provide: APP_FILTER, useClass: ProblemFilter },
        // Outermost first: a replayed idempotent answer is not audited again.
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      ],
      exports: [GATEWAY_CONFIG, AuditTrail, LiveSockets],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(RequestContextMiddleware).forRoutes('*path');
  }
}
