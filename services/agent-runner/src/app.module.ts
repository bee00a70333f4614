import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from './config';
import { KubernetesModule } from './modules/kubernetes/kubernetes.module';
import { RunnerModule } from './modules/runner/runner.module';

@Module({})
export class AppModule {
  static forRoot(config: AgentRunnerConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        PlatformModule.forRoot('agent-runner', config),
        config.RUNNER_EXECUTOR === 'kubernetes' ? KubernetesModule : RunnerModule,
      ],
      providers: [{ provide: AGENT_RUNNER_CONFIG, useValue: config }],
      exports: [AGENT_RUNNER_CONFIG],
    };
  }
}
