import { z } from 'zod';
import { TaskSandboxSchema } from './task';

// A runner as its heartbeats describe it: runners record liveness on the tasks they run
// (tasks.runner_id, heartbeat_at), so a runner is known while it runs a task the caller can see.
// With the kubernetes executor, the ids are the Jobs' names.
export const RunnerSchema = z.object({
  id: z.string(),
  // The newest heartbeat on any of its tasks.
  lastHeartbeatAt: z.string().nullable(),
  running: z.array(z.object({ id: z.string(), project: z.string() })),
  // How it isolates agents, from its tasks: `none` is a runner started with RUNNER_SANDBOX=off.
  sandbox: TaskSandboxSchema.nullable(),
});
export type Runner = z.infer<typeof RunnerSchema>;

const count = z.number().int().nonnegative();

// GET /api/v1/runners: the task queue and the runners, within the caller's projects.
export const RunnersOverviewSchema = z.object({
  // Jobs in the BullMQ task queue for tasks in scope: waiting (prioritized included), delayed,
  // taken by a runner.
  queue: z.object({ waiting: count, delayed: count, active: count }),
  // Tasks in scope by status, from Postgres.
  tasks: z.object({ queued: count, running: count }),
  runners: z.array(RunnerSchema),
});
export type RunnersOverview = z.infer<typeof RunnersOverviewSchema>;
