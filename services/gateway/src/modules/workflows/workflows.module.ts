import { Module } from '@nestjs/common';
import { RunnersModule } from '../runners/runners.module';
import { TasksModule } from '../tasks/tasks.module';
import { WorkflowChecks } from './workflow-checks';
import { WorkflowQueue } from './workflow-queue';
import { WorkflowRunsController } from './workflow-runs.controller';
import { WorkflowRunsService } from './workflow-runs.service';
import { WorkflowTemplates } from './workflow-templates';
import { WorkflowsController } from './workflows.controller';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [TasksModule, RunnersModule],
  controllers: [WorkflowsController, WorkflowRunsController],
  providers: [WorkflowsService, WorkflowRunsService, WorkflowChecks, WorkflowQueue, WorkflowTemplates],
  // Webhook commands start runs (start_workflow) as the API does.
  exports: [WorkflowRunsService],
})
export class WorkflowsModule {}
