import { Module, type DynamicModule } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { redisTransportClient } from '@hangar/redis';
import type { AgentRunnerConfig } from '../../config';
import { ORCHESTRATOR_CLIENT, TaskIntake } from './task-intake.service';

// The queues' side of either executor (the process runner, the kubernetes controller).
@Module({})
export class IntakeModule {
  static with(config: AgentRunnerConfig): DynamicModule {
    return {
      module: IntakeModule,
      global: true,
      imports: [
        ClientsModule.register([
          redisTransportClient(ORCHESTRATOR_CLIENT, config.REDIS_URL, config.HANGAR_REDIS_PREFIX),
        ]),
      ],
      providers: [TaskIntake],
      exports: [TaskIntake],
    };
  }
}
