import { Module } from '@nestjs/common';
import { TasksModule } from '../tasks/tasks.module';
import { WorkflowChecks } from './workflow-checks';
import { WorkflowQueue } from './workflow-queue';
import { WorkflowRunsController } from './workflow-runs.controller';
import { WorkflowRunsService } from './workflow-runs.service';
import { WorkflowTemplates } from './workflow-templates';
import { WorkflowsController } from './workflows.controller';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [TasksModule],
  controllers: [WorkflowsController, WorkflowRunsController],
  providers: [WorkflowsService, WorkflowRunsService, WorkflowChecks, WorkflowQueue, WorkflowTemplates],
})
export class WorkflowsModule {}
