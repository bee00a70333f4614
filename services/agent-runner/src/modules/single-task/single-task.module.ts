import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { TaskRunModule } from '../runner/runner.module';
import { SingleTaskService } from './single-task.service';

// What one task attempt needs in its own process (a Kubernetes Job's pod): the run, its
// heartbeats (so the orchestrator's lost-runner detection works as for any runner) and
// workspace, but no queue worker, no sweeper and no HTTP server.
@Module({})
export class SingleTaskModule {
  static forRoot(config: AgentRunnerConfig): DynamicModule {
    return {
      module: SingleTaskModule,
      global: true,
      imports: [PlatformModule.forRoot('agent-runner', config), TaskRunModule],
      providers: [{ provide: AGENT_RUNNER_CONFIG, useValue: config }, SingleTaskService],
      exports: [AGENT_RUNNER_CONFIG],
    };
  }
}
