import { z } from 'zod';
import { ProjectSlugSchema } from './accounts';
import { RequiresSchema, RoutingStrategySchema } from './routing';
import {
  ProfileNameSchema,
  ScenarioNameSchema,
  TaskCheckResultSchema,
  TaskCheckSchema,
  TaskPrioritySchema,
  TaskStatusSchema,
} from './task';

// A workflow definition as a user writes it (JSON or YAML, through the API, the CLI or a
// template). This is its shape; what only the whole can tell (dependencies that exist and make
// no cycle, templates and conditions that name what is there, fan-outs over lists) is checked by
// @hangar/workflows' validateWorkflow, which names the path of every problem.

export const StepIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must start with a letter: lowercase letters, digits and _');

// A value in the run: `inputs.<name>…` or `steps.<id>.output…` (and, in a loop, `loop.iteration`
// and `loop.previous.<id>.output…`).
export const ValuePathSchema = z
  .string()
  .max(300)
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/,
    'must be a dotted path, e.g. steps.review.output.verdict',
  );

const JsonScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

// Conditions are data, not code: nothing a definition holds is evaluated as a program.
export type WorkflowCondition =
  | { path: string; equals: string | number | boolean | null }
  | { path: string; in: (string | number | boolean | null)[] }
  | { path: string; exists: boolean }
  | { all: WorkflowCondition[] }
  | { any: WorkflowCondition[] }
  | { not: WorkflowCondition };

export const WorkflowConditionSchema: z.ZodType<WorkflowCondition> = z.lazy(() =>
  z.union([
    z.object({ path: ValuePathSchema, equals: JsonScalarSchema }).strict(),
    z.object({ path: ValuePathSchema, in: z.array(JsonScalarSchema).min(1).max(100) }).strict(),
    z.object({ path: ValuePathSchema, exists: z.boolean() }).strict(),
    z.object({ all: z.array(WorkflowConditionSchema).min(1).max(20) }).strict(),
    z.object({ any: z.array(WorkflowConditionSchema).min(1).max(20) }).strict(),
    z.object({ not: WorkflowConditionSchema }).strict(),
  ]),
);

export const WORKFLOW_INPUT_TYPES = ['string', 'number', 'boolean', 'object', 'array'] as const;

export const WorkflowInputSchema = z
  .object({
    type: z.enum(WORKFLOW_INPUT_TYPES),
    description: z.string().max(500).optional(),
    required: z.boolean().default(true),
    default: z.unknown().optional(),
  })
  .strict();

// A JSON Schema (draft 2020-12) for a step's structured result: an object at the top, as
// Claude Code's --json-schema takes it.
export const OutputSchemaSchema = z
  .object({ type: z.literal('object') })
  .catchall(z.unknown())
  .refine((schema) => JSON.stringify(schema).length <= 20_000, 'must be at most 20000 characters of JSON');

const TemplateSchema = z.string().min(1).max(100_000);

// Where a step works: a fresh folder, a repository at a ref, or the same workspace and branch as
// an earlier step (a worker builds on a planner's branch; a reviewer reads the worker's diff).
export const StepWorkspaceSchema = z.union([
  z.object({ fresh: z.literal(true) }).strict(),
  z.object({ repository: z.string().min(1).max(2000), ref: z.string().min(1).max(255).optional() }).strict(),
  z.object({ sameAs: StepIdSchema }).strict(),
]);

const stepCommon = {
  id: StepIdSchema,
  needs: z.array(StepIdSchema).max(50).default([]),
  when: WorkflowConditionSchema.optional(),
  continueOnError: z.boolean().default(false),
};

export const AgentStepSchema = z
  .object({
    ...stepCommon,
    type: z.literal('agent').default('agent'),
    profile: ProfileNameSchema.optional(),
    prompt: TemplateSchema,
    // The scripted model's scenario, where one runs (tests and demos), as for a task.
    scenario: ScenarioNameSchema.optional(),
    workspace: StepWorkspaceSchema.default({ fresh: true }),
    // Labels the step's runner must offer (docs/routing.md).
    requires: RequiresSchema.optional(),
    output: z.object({ schema: OutputSchemaSchema }).strict().optional(),
    // A command run in the step's workspace once its agent completed: `steps.<id>.check` holds
    // its exitCode, passed and output (e.g. a cascade's condition to escalate).
    check: TaskCheckSchema.optional(),
    timeoutSeconds: z.number().int().min(10).max(86_400).optional(),
    retries: z
      .object({
        max: z.number().int().min(0).max(10),
        backoffSeconds: z.number().int().min(0).max(3600).default(10),
      })
      .strict()
      .default({ max: 0, backoffSeconds: 10 }),
    // One task per item of a list output of an earlier step, `concurrency` at a time; the
    // item is `item` in the prompt.
    forEach: z
      .object({ items: ValuePathSchema, concurrency: z.number().int().min(1).max(100).default(5) })
      .strict()
      .optional(),
  })
  .strict();

export const ApprovalStepSchema = z
  .object({
    ...stepCommon,
    type: z.literal('approval'),
    message: TemplateSchema,
    timeoutSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(86_400),
  })
  .strict();

// A group of steps repeated until `until` holds after an iteration, at most `maxIterations`
// times; each iteration sees the previous one's outputs as `loop.previous.<id>.output`.
export const LoopStepSchema = z
  .object({
    ...stepCommon,
    type: z.literal('loop'),
    steps: z
      .array(z.union([AgentStepSchema, ApprovalStepSchema]))
      .min(1)
      .max(50),
    until: WorkflowConditionSchema,
    maxIterations: z.number().int().min(1).max(20),
  })
  .strict();

export const WorkflowStepSchema = z.union([AgentStepSchema, ApprovalStepSchema, LoopStepSchema]);
export type WorkflowStep = z.infer<typeof WorkflowStepSchema>;
export type AgentStep = z.infer<typeof AgentStepSchema>;
export type LoopStep = z.infer<typeof LoopStepSchema>;

export const WorkflowDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and -'),
    description: z.string().max(2000).optional(),
    inputs: z.record(StepIdSchema, WorkflowInputSchema).default({}),
    steps: z.array(WorkflowStepSchema).min(1).max(200),
    // What the run answers with: templates over inputs and steps.
    outputs: z.record(StepIdSchema, TemplateSchema).default({}),
    budgetUsd: z.number().positive().max(100_000).optional(),
    deadlineSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .optional(),
    // At most this many of the run's tasks queued or running at once (the rest of what is ready
    // waits its turn, in the definition's order); none: as many as are ready.
    concurrency: z.number().int().min(1).max(1000).optional(),
    // The priority of the run's tasks among the queued tasks of every project.
    priority: TaskPrioritySchema.default('normal'),
    // How the run's tasks are routed to runner pools (none: the project's strategy).
    routing: z.object({ strategy: RoutingStrategySchema }).strict().optional(),
  })
  .strict();
export type WorkflowDefinition = z.infer<typeof WorkflowDefinitionSchema>;

// ---- The API: definitions, runs and their steps ---------------------------------------------

export const WorkflowSchema = z.object({
  id: z.string(),
  // The project's slug.
  project: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  // The newest version; `definition` is that version's.
  version: z.number().int(),
  definition: WorkflowDefinitionSchema,
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Workflow = z.infer<typeof WorkflowSchema>;

export const WorkflowVersionSchema = z.object({
  version: z.number().int(),
  definition: WorkflowDefinitionSchema,
  createdBy: z.string(),
  createdAt: z.string(),
});
export type WorkflowVersion = z.infer<typeof WorkflowVersionSchema>;

export const StartWorkflowRunSchema = z
  .object({
    inputs: z.record(z.string(), z.unknown()).default({}),
    // Runs the newest version unless told otherwise.
    version: z.number().int().positive().optional(),
  })
  .strict();
export type StartWorkflowRunRequest = z.infer<typeof StartWorkflowRunSchema>;

export const WORKFLOW_RUN_STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export const WorkflowRunStatusSchema = z.enum(WORKFLOW_RUN_STATUSES);
export type WorkflowRunStatus = z.infer<typeof WorkflowRunStatusSchema>;

// WAITING: an approval gate waiting for a person (or a failed step waiting for its next try).
export const WORKFLOW_STEP_STATUSES = [
  'WAITING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'SKIPPED',
  'CANCELLED',
] as const;
export const WorkflowStepStatusSchema = z.enum(WORKFLOW_STEP_STATUSES);
export type WorkflowStepStatus = z.infer<typeof WorkflowStepStatusSchema>;
export const TERMINAL_STEP_STATUSES: readonly WorkflowStepStatus[] = [
  'COMPLETED',
  'FAILED',
  'SKIPPED',
  'CANCELLED',
];

// Why a run did not complete: "<reason>: <detail>" in its `error`.
export const WORKFLOW_FAILURE_REASONS = [
  'step-failed',
  'budget-exceeded',
  'deadline-exceeded',
  'cancelled',
] as const;

export const WorkflowStepRunSchema = z.object({
  // The step's id, with "@<iteration>" inside a loop and "[<item>]" for a fan-out item.
  key: z.string(),
  stepId: z.string(),
  type: z.enum(['agent', 'approval', 'loop']),
  iteration: z.number().int().nullable(),
  item: z.number().int().nullable(),
  status: WorkflowStepStatusSchema,
  // The task of the step's current attempt.
  taskId: z.string().nullable(),
  attempt: z.number().int(),
  output: z.unknown().nullable(),
  error: z.string().nullable(),
  dueAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  comment: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type WorkflowStepRun = z.infer<typeof WorkflowStepRunSchema>;

export const WorkflowRunSchema = z.object({
  id: z.string(),
  workflowId: z.string(),
  workflow: z.string(),
  version: z.number().int(),
  project: z.string(),
  status: WorkflowRunStatusSchema,
  inputs: z.record(z.string(), z.unknown()),
  outputs: z.record(z.string(), z.string()).nullable(),
  error: z.string().nullable(),
  // What its tasks have cost so far.
  costUsd: z.number(),
  budgetUsd: z.number().nullable(),
  deadlineAt: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  steps: z.array(WorkflowStepRunSchema),
});
export type WorkflowRun = z.infer<typeof WorkflowRunSchema>;

export const WorkflowRunPageSchema = z.object({
  items: z.array(WorkflowRunSchema.omit({ steps: true })),
  nextCursor: z.string().nullable(),
});
export type WorkflowRunPage = z.infer<typeof WorkflowRunPageSchema>;

// A ready-made definition to start from (GET /api/v1/workflows/templates).
export const WorkflowTemplateSchema = z.object({
  name: z.string(),
  description: z.string(),
  definition: WorkflowDefinitionSchema,
});
export type WorkflowTemplate = z.infer<typeof WorkflowTemplateSchema>;

// Newest first, keyset-paged like every list of the API.
const RunPageQuery = {
  status: WorkflowRunStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
};

// GET /api/v1/workflows/:id/runs
export const ListWorkflowRunsQuerySchema = z.object(RunPageQuery).strict();
export type ListWorkflowRunsQuery = z.infer<typeof ListWorkflowRunsQuerySchema>;

// GET /api/v1/workflow-runs: every project the caller sees, or `?project=`.
export const ListProjectWorkflowRunsQuerySchema = z
  .object({ ...RunPageQuery, project: ProjectSlugSchema.optional() })
  .strict();
export type ListProjectWorkflowRunsQuery = z.infer<typeof ListProjectWorkflowRunsQuerySchema>;

export const ApprovalDecisionSchema = z
  .object({ comment: z.string().trim().min(1).max(5000).optional() })
  .strict();
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

// ---- The engine's durable queue (gateway and task lifecycle → orchestrator) -----------------

export const WORKFLOW_QUEUE = 'hangar-workflows';
// A step's task as the engine decides on it.
export const StepTaskSchema = z.object({
  id: z.string().min(1),
  status: TaskStatusSchema,
  result: z.string().nullable(),
  costUsd: z.number().nullable(),
  error: z.string().nullable(),
  check: TaskCheckResultSchema.nullable(),
});
export type StepTask = z.infer<typeof StepTaskSchema>;

// What PostgreSQL tells the listening orchestrator when a workflow step's task ends (NOTIFY on
// this channel, from the tasks table's trigger, as the change commits): how it ended, as the
// lifecycle's job says it, or only its id and status when that does not fit a notification.
export const STEP_ENDED_CHANNEL = 'hangar_step_ended';
export const StepEndedNoticeSchema = z.union([
  z.object({ runId: z.string().min(1), task: StepTaskSchema }),
  z.object({ runId: z.string().min(1), taskId: z.string().min(1), status: TaskStatusSchema }),
]);
export type StepEndedNotice = z.infer<typeof StepEndedNoticeSchema>;

// `advance`: look at the run again (a task of it ended, with how it ended; it was started; a
// timer is due); `cancel` and `decide` carry what a person asked, which only the engine writes.
export const WorkflowJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('advance'), runId: z.string().min(1), task: StepTaskSchema.optional() }),
  z.object({ kind: z.literal('cancel'), runId: z.string().min(1), by: z.string().min(1) }),
  z.object({
    kind: z.literal('decide'),
    runId: z.string().min(1),
    key: z.string().min(1),
    approved: z.boolean(),
    by: z.string().min(1),
    comment: z.string().optional(),
  }),
]);
export type WorkflowJob = z.infer<typeof WorkflowJobSchema>;

// ---- What the engine reads and writes (the orchestrator's engine and libs/db's run store) ----

export interface RunSnapshot {
  run: WorkflowRun;
  projectId: string;
  cancelRequested: boolean;
  definition: WorkflowDefinition;
  tasks: StepTask[];
}

// A step row as the engine wants it after a decision (created when its key is new).
export interface StepWrite {
  key: string;
  stepId: string;
  iteration: number | null;
  item: number | null;
  status: WorkflowStepStatus;
  taskId?: string | null;
  attempt?: number;
  output?: unknown;
  error?: string | null;
  dueAt?: Date | null;
  decidedBy?: string | null;
  comment?: string | null;
}

export interface RunWrite {
  status?: WorkflowRunStatus;
  error?: string | null;
  outputs?: Record<string, string> | null;
  costUsd?: number;
  cancelRequested?: boolean;
}

export interface RunChanges {
  steps: StepWrite[];
  run?: RunWrite;
}

// What a stored decision changed, as GET /api/v1/workflow-runs/:id shows it after it: the
// steps it wrote, and the run. `decision` is the run's count of decisions with this one: it
// orders what is told of them (WorkflowRunActivity).
export interface DecisionTold {
  decision: number;
  steps: WorkflowStepRun[];
  run: Pick<WorkflowRun, 'status' | 'error' | 'outputs' | 'costUsd'>;
}

// ---- Inputs given as text (the CLI's --input k=v, a webhook command's rendered templates) -----

export type WorkflowInputType = (typeof WORKFLOW_INPUT_TYPES)[number];

// The JSON type of a value, as a definition's `inputs.<name>.type` names it.
export function jsonTypeOf(value: unknown): WorkflowInputType | 'null' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : 'other';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return typeof value === 'object' ? 'object' : 'other';
}

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

// Text read as an input's declared type: itself for a string, a number, true or false, JSON for
// an array or object; or why it does not read as that type.
export function readInputText(
  type: WorkflowInputType,
  text: string,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const trimmed = text.trim();
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 59)}…` : text);
  switch (type) {
    case 'string':
      return { ok: true, value: text };
    case 'number':
      return NUMBER_TEXT.test(trimmed) && Number.isFinite(Number(trimmed))
        ? { ok: true, value: Number(trimmed) }
        : { ok: false, error: `must be a number — got ${shown}` };
    case 'boolean': {
      const lowered = trimmed.toLowerCase();
      return lowered === 'true' || lowered === 'false'
        ? { ok: true, value: lowered === 'true' }
        : { ok: false, error: `must be true or false — got ${shown}` };
    }
    case 'array':
    case 'object':
      return readInputJson(type, trimmed);
  }
}

// Any JSON, checked against an input's declared type.
export function readInputJson(
  type: WorkflowInputType,
  text: string,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const wanted = `${type === 'array' || type === 'object' ? 'an' : 'a'} ${type}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 59)}…` : text);
    return { ok: false, error: `must be ${wanted} in JSON — got ${shown} (${reason})` };
  }
  const actual = jsonTypeOf(value);
  if (actual === type) return { ok: true, value };
  const got =
    actual === 'null' || actual === 'other'
      ? String(actual)
      : `${actual === 'array' || actual === 'object' ? 'an' : 'a'} ${actual}`;
  return { ok: false, error: `must be ${wanted} — got ${got}` };
}
