import { Module } from '@nestjs/common';
import { AgentSessionStore } from './agent-session-store';
import { HeartbeatService } from './heartbeat.service';
import { RunnerController } from './runner.controller';
import { RunnerMetrics } from './runner.metrics';
import { TaskRunService } from './task-run.service';
import { TaskWorkerService } from './task-worker.service';
import { WorkspaceSweeperService } from './workspace-sweeper.service';
import { WorkspaceService } from './workspace.service';

// What running a task attempt needs, in the long-lived runner and in run-task.js alike: the run,
// its heartbeats (the orchestrator's lost-runner detection), sessions and workspaces.
@Module({
  providers: [TaskRunService, HeartbeatService, RunnerMetrics, AgentSessionStore, WorkspaceService],
  exports: [TaskRunService],
})
export class TaskRunModule {}

// The long-lived runner: takes attempts from the queue, sweeps old workspaces, serves HTTP.
@Module({
  imports: [TaskRunModule],
  controllers: [RunnerController],
  providers: [TaskWorkerService, WorkspaceSweeperService],
})
export class RunnerModule {}
