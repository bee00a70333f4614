import { Module } from '@nestjs/common';
import { RunnersController } from './runners.controller';
import { RunnersService } from './runners.service';
import { TaskQueueJobs } from './task-queue-jobs';

@Module({ controllers: [RunnersController], providers: [RunnersService, TaskQueueJobs] })
export class RunnersModule {}
