import { Module } from '@nestjs/common';
import { HeartbeatService } from './heartbeat.service';
import { RunnerController } from './runner.controller';
import { TaskRunService } from './task-run.service';
import { TaskWorkerService } from './task-worker.service';

@Module({
  controllers: [RunnerController],
  providers: [TaskRunService, TaskWorkerService, HeartbeatService],
})
export class RunnerModule {}
