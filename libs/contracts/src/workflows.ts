import { z } from 'zod';
import { ProfileNameSchema } from './task';

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
    workspace: StepWorkspaceSchema.default({ fresh: true }),
    output: z.object({ schema: OutputSchemaSchema }).strict().optional(),
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
  })
  .strict();
export type WorkflowDefinition = z.infer<typeof WorkflowDefinitionSchema>;
