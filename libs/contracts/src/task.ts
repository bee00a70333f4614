import { z } from 'zod';

export const TASK_STATUSES = ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export const ScenarioNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a scenario name: lowercase letters, digits and dashes');

export const CreateTaskSchema = z
  .object({
    prompt: z.string().trim().min(1, 'must not be empty').max(100_000, 'must be at most 100000 characters'),
    profile: z.string().trim().min(1).max(100).optional(),
    scenario: ScenarioNameSchema.optional(),
    timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict();
export type CreateTaskRequest = z.infer<typeof CreateTaskSchema>;

export const TaskUsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheCreationTokens: z.number().int().nonnegative(),
});
export type TaskUsage = z.infer<typeof TaskUsageSchema>;

export const TaskSchema = z.object({
  id: z.string(),
  status: TaskStatusSchema,
  prompt: z.string(),
  profile: z.string(),
  scenario: z.string().nullable(),
  timeoutSeconds: z.number().int(),
  attempts: z.number().int(),
  result: z.string().nullable(),
  costUsd: z.number().nullable(),
  usage: TaskUsageSchema.nullable(),
  numTurns: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
  agentSessionId: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  workspace: z.string().nullable(),
  error: z.string().nullable(),
  lastSeq: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type Task = z.infer<typeof TaskSchema>;

// Why a task ended badly; stored in Task.error as "<reason>: <detail>".
export const FAILURE_REASONS = [
  'exit-code',
  'timeout',
  'runner-lost',
  'spawn-failed',
  'agent-error',
  'cancelled',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
