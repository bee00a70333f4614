import { Module } from '@nestjs/common';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { StepEndListener } from './step-end-listener';
import { WorkflowEngine } from './workflow-engine.service';
import { WorkflowMetrics } from './workflow.metrics';

@Module({
  imports: [SchedulingModule],
  providers: [WorkflowEngine, WorkflowMetrics, StepEndListener],
  exports: [WorkflowEngine],
})
export class WorkflowsModule {}
