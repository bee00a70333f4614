import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { KubeClients } from './kube-clients';
import { KubernetesController } from './kubernetes.controller';
import { KubernetesExecutor } from './kubernetes-executor.service';
import { KubernetesMetrics } from './kubernetes.metrics';

// RUNNER_EXECUTOR=kubernetes: this process runs no agent itself; it is the controller of task
// Jobs, whose pods run run-task.js (docs/kubernetes.md), and it serves those pods the task API,
// the model gateway and the egress proxy with each attempt's token.
@Module({
  imports: [EndpointsModule],
  controllers: [KubernetesController],
  providers: [KubeClients, KubernetesExecutor, KubernetesMetrics],
})
export class KubernetesModule {}
