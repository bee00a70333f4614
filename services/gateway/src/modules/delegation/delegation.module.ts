import { Module } from '@nestjs/common';
import { TasksModule } from '../tasks/tasks.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { DelegationController } from './delegation.controller';
import { DelegationService } from './delegation.service';

@Module({
  imports: [TasksModule, WorkflowsModule],
  controllers: [DelegationController],
  providers: [DelegationService],
})
export class DelegationModule {}
