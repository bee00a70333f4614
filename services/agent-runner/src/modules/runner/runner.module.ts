import { Module } from '@nestjs/common';
import { HeartbeatService } from './heartbeat.service';
import { RunnerController } from './runner.controller';
import { RunnerMetrics } from './runner.metrics';
import { TaskRunService } from './task-run.service';
import { TaskWorkerService } from './task-worker.service';

@Module({
  controllers: [RunnerController],
  providers: [TaskRunService, TaskWorkerService, HeartbeatService, RunnerMetrics],
})
export class RunnerModule {}
