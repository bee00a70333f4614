import { Module, type DynamicModule, type ModuleMetadata, type Provider } from '@nestjs/common';
import { ATTEMPT_BACKEND } from '../attempts/attempt-backend';
import { AttemptsModule } from '../attempts/attempts.module';
import { LocalAttemptBackend } from '../attempts/local-attempts';
import { AGENT_ACCESS } from '../endpoints/agent-access';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { LocalAgentAccess } from '../endpoints/local-agent-access';
import { AgentSessionStore } from './agent-session-store';
import { HeartbeatService } from './heartbeat.service';
import { RunnerController } from './runner.controller';
import { RunnerMetrics } from './runner.metrics';
import { TaskRunService } from './task-run.service';
import { SpareSandboxes } from './spare-sandboxes';
import { TaskWorkerService } from './task-worker.service';
import { WARM_AGENTS } from './warm-agent';
import { WarmPool } from './warm-pool';
import { WorkspaceSweeperService } from './workspace-sweeper.service';
import { WorkspaceService } from './workspace.service';

// What running a task attempt needs, in the long-lived runner and in run-task.js alike: the run,
// its heartbeats (the orchestrator's lost-runner detection), sessions and workspaces. Where the
// attempt's state is kept (ATTEMPT_BACKEND) and how its agent reaches the platform
// (AGENT_ACCESS) are the process's: `imports` and `providers` give them (`exports`: those of
// them the process's own module uses too).
@Module({})
export class TaskRunModule {
  static with(
    backend: Pick<ModuleMetadata, 'imports' | 'exports'> & { providers: Provider[] },
  ): DynamicModule {
    return {
      module: TaskRunModule,
      imports: backend.imports ?? [],
      providers: [
        TaskRunService,
        HeartbeatService,
        RunnerMetrics,
        AgentSessionStore,
        WorkspaceService,
        ...backend.providers,
      ],
      exports: [TaskRunService, ATTEMPT_BACKEND, ...(backend.exports ?? [])],
    };
  }
}

// The long-lived runner: takes attempts from the queue, keeps their state itself, sweeps old
// workspaces, serves HTTP and the agents' endpoints.
@Module({
  imports: [
    TaskRunModule.with({
      imports: [AttemptsModule, EndpointsModule],
      providers: [
        { provide: ATTEMPT_BACKEND, useClass: LocalAttemptBackend },
        { provide: AGENT_ACCESS, useClass: LocalAgentAccess },
        WarmPool,
        { provide: WARM_AGENTS, useExisting: WarmPool },
        SpareSandboxes,
      ],
      // The process executor registers what the pool holds (routing reads it).
      exports: [WarmPool],
    }),
  ],
  controllers: [RunnerController],
  providers: [TaskWorkerService, WorkspaceSweeperService],
})
export class RunnerModule {}
