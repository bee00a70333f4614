import { Module, type DynamicModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hangar/observability';
import { RUN_SETTINGS } from '../../config';
import { TASK_POD_CONFIG, type TaskPodConfig } from '../../task-pod.config';
import { ATTEMPT_BACKEND } from '../attempts/attempt-backend';
import { RemoteAttemptBackend, TASK_API_CLIENT } from '../attempts/remote-attempts';
import { TaskApiClient } from '../attempts/task-api.client';
import { AGENT_ACCESS } from '../endpoints/agent-access';
import { TaskRunModule } from '../runner/runner.module';
import { AGENT_SANDBOX, AgentSandbox } from '../sandbox/agent-sandbox';
import { WARM_AGENTS } from '../runner/warm-agent';
import { PodAgentAccess, TASK_TOKEN } from './pod-agent-access';
import { PodWarmAgent } from './pod-warm-agent';
import { SingleTaskService } from './single-task.service';

// What one task attempt needs in a task pod (run-task.js): the run, its heartbeats and
// workspace, with the attempt's state kept by the runner through the task API. No database,
// Redis, queue worker, sweeper or HTTP server.
@Module({})
export class SingleTaskModule {
  static forRoot(config: TaskPodConfig, token: string): DynamicModule {
    return {
      module: SingleTaskModule,
      global: true,
      imports: [
        TaskRunModule.with({
          providers: [
            {
              provide: TASK_API_CLIENT,
              useValue: new TaskApiClient({ url: config.RUNNER_TASK_API_URL, token }),
            },
            { provide: ATTEMPT_BACKEND, useClass: RemoteAttemptBackend },
            { provide: AGENT_ACCESS, useClass: PodAgentAccess },
            // A warm pod's CLI (run-task.js --warm); a cold pod's holds none.
            PodWarmAgent,
            { provide: WARM_AGENTS, useExisting: PodWarmAgent },
          ],
          exports: [PodWarmAgent],
        }),
      ],
      providers: [
        { provide: TASK_POD_CONFIG, useValue: config },
        { provide: TASK_TOKEN, useValue: token },
        { provide: RUN_SETTINGS, useValue: config },
        // The pod is the agent's boundary (docs/kubernetes.md).
        { provide: AGENT_SANDBOX, useValue: AgentSandbox.pod() },
        // Nobody scrapes a task pod: the runner's own metrics stay unexported here.
        { provide: METRICS_REGISTRY, useValue: new Registry() },
        SingleTaskService,
      ],
      exports: [TASK_POD_CONFIG, TASK_TOKEN, RUN_SETTINGS, AGENT_SANDBOX, METRICS_REGISTRY],
    };
  }
}
