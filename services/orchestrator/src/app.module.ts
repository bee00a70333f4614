import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@hangar/platform';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from './config';
import { runnerClientModule } from './modules/scheduling/runner-client';
import { SchedulingModule } from './modules/scheduling/scheduling.module';
import { WorkflowsModule } from './modules/workflows/workflows.module';

@Module({})
export class AppModule {
  static forRoot(config: OrchestratorConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        PlatformModule.forRoot('orchestrator', config),
        { ...runnerClientModule(config.REDIS_URL, config.HANGAR_REDIS_PREFIX), global: true },
        SchedulingModule,
        WorkflowsModule,
      ],
      providers: [{ provide: ORCHESTRATOR_CONFIG, useValue: config }],
      exports: [ORCHESTRATOR_CONFIG],
    };
  }
}
