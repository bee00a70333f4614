import { Module } from '@nestjs/common';
import { RunnersController } from './runners.controller';
import { RoutingPolicy } from './routing-policy';
import { RunnersService } from './runners.service';
import { TaskQueueJobs } from './task-queue-jobs';

@Module({
  controllers: [RunnersController],
  providers: [RunnersService, TaskQueueJobs, RoutingPolicy],
  exports: [RoutingPolicy],
})
export class RunnersModule {}
