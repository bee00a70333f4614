import { z } from 'zod';
import { ProjectSlugSchema } from './accounts';
import { RequiresSchema } from './routing';

export const TASK_STATUSES = ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
// Nothing more happens to a task in these (libs/db's state machine has no arrow out of them).
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export function isTerminalStatus(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export const ScenarioNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a scenario name: lowercase letters, digits and dashes');

export const PromptSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100_000, 'must be at most 100000 characters');
export const ProfileNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'must be a profile name: lowercase letters, digits, - and _ (at most 63)',
  );

// Where a task works: a git repository (URL or a local path under the allowed roots) and a ref.
// The gateway checks them fully (@hangar/workspaces) before anything is queued.
export const RepositoryFieldsSchema = z.object({
  repository: z.string().min(1).max(2048).optional(),
  ref: z.string().min(1).max(255).optional(),
  push: z.boolean().optional(),
});

// Queued tasks start in priority order, then oldest first.
export const TASK_PRIORITIES = ['low', 'normal', 'high'] as const;
export const TaskPrioritySchema = z.enum(TASK_PRIORITIES);
export type TaskPriority = z.infer<typeof TaskPrioritySchema>;
// BullMQ's priority of each (lower starts first; every task job carries one, so FIFO within).
export const QUEUE_PRIORITY: Record<TaskPriority, number> = { high: 1, normal: 2, low: 3 };

// A command run in the task's workspace after its agent completed (a workflow step's check,
// docs/workflows.md): in a sandbox holding that workspace alone, with its own time limit.
export const TaskCheckSchema = z
  .object({
    command: z.string().trim().min(1).max(2000),
    timeoutSeconds: z.number().int().min(1).max(3600).default(300),
  })
  .strict();
export type TaskCheck = z.infer<typeof TaskCheckSchema>;

// How the check ended: its exit status (null: it was stopped at its time limit or could not
// start) and the end of what it printed (stdout and stderr together).
export const TaskCheckResultSchema = z.object({
  exitCode: z.number().int().nullable(),
  passed: z.boolean(),
  output: z.string(),
});
export type TaskCheckResult = z.infer<typeof TaskCheckResultSchema>;

export const CreateTaskSchema = z
  .object({
    prompt: PromptSchema,
    profile: ProfileNameSchema.optional(),
    scenario: ScenarioNameSchema.optional(),
    timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    priority: TaskPrioritySchema.optional(),
    // Labels the runner must offer (docs/routing.md); refused when no known runner offers them.
    requires: RequiresSchema.optional(),
    // A command run in the task's workspace once its agent completed: its exit status and output
    // are the task's checkResult (its status stays the agent's).
    check: TaskCheckSchema.optional(),
    ...RepositoryFieldsSchema.shape,
  })
  .strict()
  .refine((body) => body.repository !== undefined || (body.ref === undefined && body.push === undefined), {
    message: 'ref and push need a repository',
    path: ['repository'],
  });
export type CreateTaskRequest = z.infer<typeof CreateTaskSchema>;

export const TaskUsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheCreationTokens: z.number().int().nonnegative(),
});
export type TaskUsage = z.infer<typeof TaskUsageSchema>;

// How an attempt's agent was isolated: the runner's bubblewrap sandbox, a task pod of the
// kubernetes executor, or nothing (a runner with RUNNER_SANDBOX=off).
export const TASK_SANDBOXES = ['bwrap', 'pod', 'none'] as const;
export const TaskSandboxSchema = z.enum(TASK_SANDBOXES);
export type TaskSandbox = z.infer<typeof TaskSandboxSchema>;

export const TaskSchema = z.object({
  id: z.string(),
  // The project's slug.
  project: z.string(),
  status: TaskStatusSchema,
  priority: TaskPrioritySchema,
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
  // Of the latest attempt; null before one starts.
  sandbox: TaskSandboxSchema.nullable(),
  repository: z.string().nullable(),
  ref: z.string().nullable(),
  push: z.boolean(),
  branch: z.string().nullable(),
  baseCommit: z.string().nullable(),
  pushedAt: z.string().nullable(),
  conversationId: z.string().nullable(),
  // The task this one retries (POST /api/v1/tasks/:id/retry).
  retryOf: z.string().nullable(),
  // A JSON Schema the agent's final answer must match (a workflow step's structured output).
  outputSchema: z.record(z.string(), z.unknown()).nullable(),
  // The command run after the agent completed, and how it ended (null until it ran).
  check: TaskCheckSchema.nullable(),
  checkResult: TaskCheckResultSchema.nullable(),
  // The earlier task whose workspace (folder and branch) this one works in.
  workspaceOf: z.string().nullable(),
  // The workflow run and the step (its key, e.g. "review@2") this task runs.
  workflowRunId: z.string().nullable(),
  workflowStep: z.string().nullable(),
  // Delegation (docs/delegation.md): the task whose agent started this one, the tree's root (a
  // root's own id) and the depth below it (a root: 0).
  parentTaskId: z.string().nullable(),
  rootTaskId: z.string(),
  depth: z.number().int().nonnegative(),
  // Labels its runner must offer, and the runner pool the orchestrator routed it to (null
  // before it is routed).
  requires: z.array(z.string()),
  pool: z.string().nullable(),
  error: z.string().nullable(),
  // Why a task waits (docs/governance.md): QUEUED with `provider-quota` while every credential
  // of its provider is rate limited, until when; RUNNING with `approval` while its agent waits
  // for a person to answer a tool call, until the approval's deadline.
  waiting: z
    .object({ reason: z.enum(['provider-quota', 'approval']), until: z.string().nullable() })
    .nullable(),
  lastSeq: z.number().int(),
  // The trace of the request that created it (docs/observability.md#one-trace-per-request): its
  // services' spans and its agent's; null when it was created outside a traced request.
  traceId: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type Task = z.infer<typeof TaskSchema>;

export const TaskDiffSchema = z.object({
  taskId: z.string(),
  unifiedDiff: z.string(),
  truncated: z.boolean(),
  files: z.array(
    z.object({
      path: z.string(),
      status: z.enum(['added', 'modified', 'deleted', 'renamed']),
      additions: z.number().int(),
      deletions: z.number().int(),
    }),
  ),
  linesAdded: z.number().int(),
  linesRemoved: z.number().int(),
  commit: z.string().nullable(),
});
export type TaskDiff = z.infer<typeof TaskDiffSchema>;

// Why a task ended badly; stored in Task.error as "<reason>: <detail>".
export const FAILURE_REASONS = [
  'exit-code',
  'timeout',
  'output-limit',
  'workspace',
  'runner-shutdown',
  'runner-lost',
  'spawn-failed',
  'agent-error',
  'cancelled',
  // No runner offers what the task requires (docs/routing.md).
  'unroutable',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

// GET /api/v1/tasks: newest first; the cursor is opaque (keyset on createdAt + id), so pages
// stay stable while new tasks arrive.
export const ListTasksQuerySchema = z
  .object({
    status: z
      .union([TaskStatusSchema, z.string().transform((value) => value.split(','))])
      .pipe(z.union([TaskStatusSchema, z.array(TaskStatusSchema)]))
      .optional(),
    // Without it: every project the caller can see.
    project: ProjectSlugSchema.optional(),
    profile: ProfileNameSchema.optional(),
    // Words of the prompt, case-insensitive.
    q: z.string().trim().min(1).max(200).optional(),
    conversationId: z.string().min(1).max(100).optional(),
    createdAfter: z.iso.datetime({ offset: true }).optional(),
    createdBefore: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListTasksQuery = z.infer<typeof ListTasksQuerySchema>;

export const TaskPageSchema = z.object({
  items: z.array(TaskSchema),
  // Pass as `cursor` for the next (older) page; null on the last page.
  nextCursor: z.string().nullable(),
});
export type TaskPage = z.infer<typeof TaskPageSchema>;

// GET /api/v1/scenarios: what a task's `scenario` may name. `scriptedModel` false (a real model
// is configured): none, and the field is refused.
export const ScenarioListSchema = z.object({
  scriptedModel: z.boolean(),
  items: z.array(z.object({ name: z.string(), description: z.string() })),
});
export type ScenarioList = z.infer<typeof ScenarioListSchema>;
