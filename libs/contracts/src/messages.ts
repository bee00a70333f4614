import { z } from 'zod';
import { withTrace } from './trace';

// Nest microservice message patterns over the Redis transport. Every request carries a
// timeout at the sender; every handler is idempotent (pub/sub may drop or repeat).
export const Patterns = {
  // gateway → orchestrator (event): a task was recorded as QUEUED; schedule it.
  taskCreated: 'tasks.created',
  // gateway → orchestrator (request): cancel a task; answers with the task's status.
  taskCancel: 'tasks.cancel',
  // orchestrator → every agent-runner (event): stop the process of a running task.
  runnerCancel: 'runner.cancel',
  // agent-runner → orchestrator (event): a runner registered (docs/routing.md); tasks waiting
  // for a runner that offers what they require are routed again.
  runnerRegistered: 'runner.registered',
} as const;

// Every message and job below carries the trace it was sent in (`trace`, withTrace).
export const TaskCreatedMessageSchema = withTrace(
  z.object({
    taskId: z.string().min(1),
    // The task's project, which is all the orchestrator needs to admit it (it then reads nothing
    // first); absent, it reads the task.
    projectId: z.string().min(1).optional(),
  }),
);
export type TaskCreatedMessage = z.infer<typeof TaskCreatedMessageSchema>;

export const TaskCancelMessageSchema = withTrace(z.object({ taskId: z.string().min(1) }));
export type TaskCancelMessage = z.infer<typeof TaskCancelMessageSchema>;

export const TaskCancelReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), status: z.string() }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type TaskCancelReply = z.infer<typeof TaskCancelReplySchema>;

export const RunnerRegisteredMessageSchema = withTrace(z.object({ runnerId: z.string().min(1) }));
export type RunnerRegisteredMessage = z.infer<typeof RunnerRegisteredMessageSchema>;

export const RunnerCancelMessageSchema = withTrace(z.object({ taskId: z.string().min(1) }));
export type RunnerCancelMessage = z.infer<typeof RunnerCancelMessageSchema>;

// The durable queues (BullMQ) between orchestrator and agent-runners: one per runner pool
// (`hangar-tasks.pool.<pool>`), one per runner (`hangar-tasks.runner.<id>`: tasks working in a
// workspace that runner holds). A task's routing target is stored as `<pool>` or `runner:<id>`
// (tasks.pool).
export const TASK_QUEUE = 'hangar-tasks';
export type TaskQueueTarget = { pool: string } | { runner: string };

export function taskQueueName(target: TaskQueueTarget): string {
  return 'pool' in target ? `${TASK_QUEUE}.pool.${target.pool}` : `${TASK_QUEUE}.runner.${target.runner}`;
}

export function storedTarget(target: TaskQueueTarget): string {
  return 'pool' in target ? target.pool : `runner:${target.runner}`;
}

export function targetOfStored(stored: string): TaskQueueTarget {
  return stored.startsWith('runner:') ? { runner: stored.slice('runner:'.length) } : { pool: stored };
}
// `attempt` is the run this job is for (1 = first); a job for an older attempt is stale.
export const TaskJobSchema = withTrace(
  z.object({
    taskId: z.string().min(1),
    attempt: z.number().int().positive(),
    // The provider of its profile: a runner holds the job while that provider's quota is spent.
    provider: z.string().optional(),
  }),
);
export type TaskJob = z.infer<typeof TaskJobSchema>;

// The orchestrator's scheduling inbox: a task ended, so its project may admit a waiting one; or
// (delayed until then) a provider's quota is back, so the tasks held for it may start.
export const SCHEDULING_QUEUE = 'hangar-scheduling';
export const TaskEndedJobSchema = z.union([
  withTrace(z.object({ taskId: z.string().min(1) })),
  withTrace(z.object({ quotaBack: z.string().min(1) })),
]);
export type TaskEndedJob = z.infer<typeof TaskEndedJobSchema>;

// A task job's id is `<task id>-a<attempt>`: enqueuing the same attempt twice is a no-op.
export function jobIdOf(taskId: string, attempt: number): string {
  return `${taskId}-a${attempt}`;
}

// The task a job id (jobIdOf) is for.
export function taskIdOfJob(jobId: string): string {
  return jobId.replace(/-a\d+$/, '');
}
