import type { RunnerExecutor, TaskJob } from '@hangar/contracts';
import type { Job } from '@hangar/redis';

// How a runner runs the attempts it takes from its queues: the process executor spawns the
// agent CLI here (TaskWorkerService), the kubernetes executor makes one Job per attempt
// (KubernetesExecutor). TaskIntake feeds either from the queues and registers what it offers.
export interface TaskExecutor {
  readonly kind: RunnerExecutor;
  // Queue jobs taken at once.
  readonly concurrency: number;
  // Attempts it runs at once at most, and runs now (what routing weighs); its waiting warm CLIs
  // by profile id.
  capacity(): { slots: number; running: number; warm?: Record<string, number> };
  // Takes one job; answers what became of it (BullMQ keeps it as the job's return value).
  take(job: Job<TaskJob>, token: string | undefined): Promise<string>;
}
