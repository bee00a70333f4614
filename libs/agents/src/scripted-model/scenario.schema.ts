import { z } from 'zod';

// The scenario language: one JSON file per scenario, one step per main-loop model call.
// Documented in libs/agents/README.md; keep the two in step.

export const API_ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export const ScriptedErrorSchema = z
  .object({
    status: z.number().int().min(400).max(599),
    times: z.union([z.number().int().positive(), z.literal('always')]).default(1),
    type: z.string().min(1).optional(),
    message: z.string().optional(),
    retryAfterSeconds: z.number().int().nonnegative().optional(),
  })
  .strict();
export type ScriptedError = z.infer<typeof ScriptedErrorSchema>;

export const ScriptedUsageSchema = z
  .object({
    inputTokens: z.number().int().nonnegative().default(100),
    outputTokens: z.number().int().nonnegative().default(20),
    cacheReadInputTokens: z.number().int().nonnegative().default(0),
    cacheCreationInputTokens: z.number().int().nonnegative().default(0),
  })
  .strict();
export type ScriptedUsage = z.infer<typeof ScriptedUsageSchema>;
export const DEFAULT_USAGE: ScriptedUsage = ScriptedUsageSchema.parse({});

const TextBlockSchema = z
  .object({
    type: z.literal('text'),
    text: z.string(),
    repeat: z.number().int().positive().max(100_000).optional(),
  })
  .strict();

const ThinkingBlockSchema = z.object({ type: z.literal('thinking'), thinking: z.string() }).strict();

const ToolUseBlockSchema = z
  .object({
    type: z.literal('tool_use'),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const ScriptedBlockSchema = z.discriminatedUnion('type', [
  TextBlockSchema,
  ThinkingBlockSchema,
  ToolUseBlockSchema,
]);
export type ScriptedBlock = z.infer<typeof ScriptedBlockSchema>;

export const STOP_REASONS = ['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'refusal'] as const;

export const ScenarioStepSchema = z
  .object({
    text: z.string().optional(),
    content: z.array(ScriptedBlockSchema).optional(),
    errors: z.array(ScriptedErrorSchema).default([]),
    delayMs: z.number().int().nonnegative().default(0),
    chunkSize: z.number().int().positive().default(64),
    chunkDelayMs: z.number().int().nonnegative().default(0),
    stopReason: z.enum(STOP_REASONS).optional(),
    usage: ScriptedUsageSchema.optional(),
  })
  .strict()
  .refine(
    (step) => step.text !== undefined || (step.content?.length ?? 0) > 0 || hasEndlessError(step.errors),
    {
      message: 'a step needs "text", a non-empty "content", or an error with "times": "always"',
    },
  );
export type ScenarioStep = z.infer<typeof ScenarioStepSchema>;

// Steps for runs whose prompt includes a text: one scenario can answer several prompts differently.
export const ScenarioCaseSchema = z
  .object({
    promptIncludes: z.string().min(1),
    steps: z.array(ScenarioStepSchema).min(1),
  })
  .strict();
export type ScenarioCase = z.infer<typeof ScenarioCaseSchema>;

export const ScenarioSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().default(''),
    usage: ScriptedUsageSchema.optional(),
    steps: z.array(ScenarioStepSchema).min(1),
    cases: z.array(ScenarioCaseSchema).optional(),
  })
  .strict();
export type ScenarioDefinition = z.infer<typeof ScenarioSchema>;

export interface Scenario extends ScenarioDefinition {
  name: string;
  path: string;
}

function hasEndlessError(errors: ScriptedError[]): boolean {
  return errors.some((error) => error.times === 'always');
}

// The steps that answer a run: those of the first case whose text the prompt includes, else the
// scenario's own. `caseIndex` says which case, if one matched.
export function stepsForPrompt(
  scenario: Pick<ScenarioDefinition, 'steps' | 'cases'>,
  prompt: string,
): { steps: ScenarioStep[]; caseIndex: number | undefined } {
  const caseIndex = scenario.cases?.findIndex((candidate) => prompt.includes(candidate.promptIncludes)) ?? -1;
  const chosen = scenario.cases?.[caseIndex];
  return chosen ? { steps: chosen.steps, caseIndex } : { steps: scenario.steps, caseIndex: undefined };
}

// Blocks of a step in reply order: the `text` shorthand comes first.
export function stepBlocks(step: ScenarioStep): ScriptedBlock[] {
  const blocks: ScriptedBlock[] = step.text === undefined ? [] : [{ type: 'text', text: step.text }];
  return [...blocks, ...(step.content ?? [])];
}
