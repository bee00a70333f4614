import { Module } from '@nestjs/common';
import { QueueMetrics } from './queue.metrics';
import { ReconcilerService } from './reconciler.service';
import { SchedulerService } from './scheduler.service';
import { SchedulingController } from './scheduling.controller';
import { TaskEndings } from './task-endings';
import { TaskQueue } from './task-queue';

@Module({
  controllers: [SchedulingController],
  providers: [SchedulerService, ReconcilerService, TaskQueue, QueueMetrics, TaskEndings],
  exports: [TaskQueue, SchedulerService],
})
export class SchedulingModule {}
