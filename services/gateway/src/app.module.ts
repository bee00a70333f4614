import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ZodValidationPipe } from 'nestjs-zod';
import { PlatformModule } from '@hangar/platform';
import { IdempotencyInterceptor } from './common/idempotency.interceptor';
import { ProblemFilter } from './common/problem.filter';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { orchestratorClientModule } from './modules/tasks/orchestrator-client';
import { ConversationsModule } from './modules/conversations/conversations.module';
import { ProfilesModule } from './modules/profiles/profiles.module';
import { TasksModule } from './modules/tasks/tasks.module';

@Module({})
export class AppModule {
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
        TasksModule,
        ProfilesModule,
        ConversationsModule,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      ],
      exports: [GATEWAY_CONFIG],
    };
  }
}
