import { Module } from '@nestjs/common';
import { ReconcilerService } from './reconciler.service';
import { SchedulerService } from './scheduler.service';
import { SchedulingController } from './scheduling.controller';
import { StatusEvents } from './status-events';
import { TaskQueue } from './task-queue';

@Module({
  controllers: [SchedulingController],
  providers: [SchedulerService, ReconcilerService, StatusEvents, TaskQueue],
  exports: [TaskQueue],
})
export class SchedulingModule {}
