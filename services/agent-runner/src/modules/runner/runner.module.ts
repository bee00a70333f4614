import { Module } from '@nestjs/common';
import { AgentSessionStore } from './agent-session-store';
import { HeartbeatService } from './heartbeat.service';
import { RunnerController } from './runner.controller';
import { RunnerMetrics } from './runner.metrics';
import { TaskRunService } from './task-run.service';
import { TaskWorkerService } from './task-worker.service';
import { WorkspaceSweeperService } from './workspace-sweeper.service';
import { WorkspaceService } from './workspace.service';

@Module({
  controllers: [RunnerController],
  providers: [
    TaskRunService,
    TaskWorkerService,
    HeartbeatService,
    RunnerMetrics,
    AgentSessionStore,
    WorkspaceService,
    WorkspaceSweeperService,
  ],
})
export class RunnerModule {}
