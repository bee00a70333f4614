import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import { AGENT_RUNNER_CONFIG, RUN_SETTINGS, type AgentRunnerConfig } from './config';
import { IntakeModule } from './modules/intake/intake.module';
import { RunnerModule } from './modules/runner/runner.module';
import { AGENT_SANDBOX, type AgentSandbox } from './modules/sandbox/agent-sandbox';

@Module({})
export class AppModule implements OnApplicationShutdown {
  constructor(@Inject(AGENT_SANDBOX) private readonly sandbox: AgentSandbox) {}

  // After every module's beforeApplicationShutdown: the runner's attempts, warm CLIs and spare
  // sandboxes have ended by then.
  onApplicationShutdown(): void {
    this.sandbox.dispose();
  }

  static forRoot(config: AgentRunnerConfig, sandbox: AgentSandbox): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        PlatformModule.forRoot('agent-runner', config),
        IntakeModule.with(config),
        config.RUNNER_EXECUTOR === 'kubernetes' ? kubernetesModule() : RunnerModule,
      ],
      providers: [
        { provide: AGENT_RUNNER_CONFIG, useValue: config },
        { provide: RUN_SETTINGS, useValue: config },
        { provide: AGENT_SANDBOX, useValue: sandbox },
      ],
      exports: [AGENT_RUNNER_CONFIG, RUN_SETTINGS, AGENT_SANDBOX],
    };
  }
}

// Loaded only for the kubernetes executor: its Kubernetes client is most of a second of CPU and
// tens of MB a process runner would carry for nothing (docs/performance.md).
function kubernetesModule() {
  type Loaded = typeof import('./modules/kubernetes/kubernetes.module');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./modules/kubernetes/kubernetes.module') as Loaded).KubernetesModule;
}
