import { Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { redisTransportClient } from '@hangar/redis';
import { NotificationHook } from '@hangar/platform';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { AttemptsModule } from '../attempts/attempts.module';
import { ApprovalGate } from './approval-gate';
import { AttemptCredentials } from './attempt-credentials.service';
import { DELEGATION_CLIENT, DelegationMcp } from './delegation-mcp';
import { EgressProxy } from './egress-proxy';
import { BudgetGuard } from './budget-guard';
import { ModelCallMetrics } from './model-call.metrics';
import { ModelGateway } from './model-gateway';
import { TelemetryRelay } from './telemetry-relay';
import { ProviderCredentials } from './provider-credentials';
import { RunnerEndpoints } from './runner-endpoints.server';
import { TaskApi } from './task-api';
import { WarmAssignments } from './warm-assignments';

// The runner's endpoints for agents and task pods, and the credentials they check.
@Module({
  imports: [
    AttemptsModule,
    // Delegating agents' requests to the gateway (children) and the orchestrator (cancel).
    ClientsModule.registerAsync([
      {
        name: DELEGATION_CLIENT,
        inject: [AGENT_RUNNER_CONFIG],
        useFactory: (config: AgentRunnerConfig) => {
          const { name: _name, ...client } = redisTransportClient(
            DELEGATION_CLIENT,
            config.REDIS_URL,
            config.HANGAR_REDIS_PREFIX,
          );
          return client;
        },
      },
    ]),
  ],
  providers: [
    AttemptCredentials,
    ModelGateway,
    ModelCallMetrics,
    BudgetGuard,
    ProviderCredentials,
    {
      provide: NotificationHook,
      inject: [AGENT_RUNNER_CONFIG],
      useFactory: (config: AgentRunnerConfig) =>
        new NotificationHook({ url: config.NOTIFY_WEBHOOK_URL, secret: config.NOTIFY_WEBHOOK_SECRET }),
    },
    EgressProxy,
    TaskApi,
    WarmAssignments,
    ApprovalGate,
    DelegationMcp,
    TelemetryRelay,
    RunnerEndpoints,
  ],
  exports: [ApprovalGate, AttemptCredentials, RunnerEndpoints, WarmAssignments],
})
export class EndpointsModule {}
