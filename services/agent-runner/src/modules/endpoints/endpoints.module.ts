import { Module } from '@nestjs/common';
import { AttemptsModule } from '../attempts/attempts.module';
import { AttemptCredentials } from './attempt-credentials.service';
import { EgressProxy } from './egress-proxy';
import { ModelGateway } from './model-gateway';
import { RunnerEndpoints } from './runner-endpoints.server';
import { TaskApi } from './task-api';

// The runner's endpoints for agents and task pods, and the credentials they check.
@Module({
  imports: [AttemptsModule],
  providers: [AttemptCredentials, ModelGateway, EgressProxy, TaskApi, RunnerEndpoints],
  exports: [AttemptCredentials, RunnerEndpoints],
})
export class EndpointsModule {}
