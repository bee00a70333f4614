import { z } from 'zod';
import { ProviderSchema } from './profile';
import { PoolNameSchema, RunnerExecutorSchema } from './routing';
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

// What a runner registers (libs/redis RunnerRegistry), again at every heartbeat interval.
export const RunnerRecordSchema = z.object({
  id: z.string().min(1),
  pool: PoolNameSchema,
  executor: RunnerExecutorSchema,
  // Its own labels and the implicit ones (pool=…, executor=…), sorted.
  labels: z.array(z.string()),
  // The agent CLIs it can run: installed, with a model to talk to.
  providers: z.array(ProviderSchema),
  // Attempts it runs at once, and runs now.
  slots: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  // Agent CLIs it keeps started ahead of their tasks and waiting now, by profile id (the warm
  // pool; docs/performance.md). Absent: none.
  warm: z.record(z.string(), z.number().int().nonnegative()).optional(),
  // When it last said so (ms since the epoch), and how often it does.
  seenAt: z.number().int(),
  intervalMs: z.number().int().positive(),
});
export type RunnerRecord = z.infer<typeof RunnerRecordSchema>;

// A runner pool as the API shows it: what every live runner of it offers, and its load.
export const RunnerPoolSchema = z.object({
  name: PoolNameSchema,
  // Labels and providers every live runner of the pool offers.
  labels: z.array(z.string()),
  providers: z.array(ProviderSchema),
  executors: z.array(RunnerExecutorSchema),
  runners: z.array(
    z.object({
      id: z.string(),
      live: z.boolean(),
      slots: z.number().int(),
      running: z.number().int(),
      seenAt: z.string(),
    }),
  ),
  slots: z.number().int(),
  running: z.number().int(),
});
export type RunnerPool = z.infer<typeof RunnerPoolSchema>;

const count = z.number().int().nonnegative();

// GET /api/v1/runners: the task queue and the runners, within the caller's projects.
export const RunnersOverviewSchema = z.object({
  // Jobs in the pools' BullMQ task queues for tasks in scope: waiting (prioritized included), delayed,
  // taken by a runner.
  queue: z.object({ waiting: count, delayed: count, active: count }),
  // Tasks in scope by status, from Postgres.
  tasks: z.object({ queued: count, running: count }),
  runners: z.array(RunnerSchema),
  // The runner pools the orchestrator routes to (docs/routing.md), installation-wide.
  pools: z.array(RunnerPoolSchema),
});
export type RunnersOverview = z.infer<typeof RunnersOverviewSchema>;
