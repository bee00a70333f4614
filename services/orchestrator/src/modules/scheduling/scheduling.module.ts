import { Module } from '@nestjs/common';
import { BudgetMetrics } from './budget.metrics';
import { QueueMetrics } from './queue.metrics';
import { ReconcilerService } from './reconciler.service';
import { SchedulerService } from './scheduler.service';
import { SchedulingController } from './scheduling.controller';
import { TaskCountsFolder } from './task-counts-folder';
import { TaskEndings } from './task-endings';
import { TaskRouter } from './task-router';

@Module({
  controllers: [SchedulingController],
  providers: [
    SchedulerService,
    ReconcilerService,
    TaskRouter,
    QueueMetrics,
    BudgetMetrics,
    TaskEndings,
    TaskCountsFolder,
  ],
  exports: [TaskRouter, SchedulerService],
})
export class SchedulingModule {}
