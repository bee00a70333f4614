import { z } from 'zod';
import { TaskStatusSchema, TaskUsageSchema } from './task';

// Event types Hangar records for a task. Agent CLIs' output is parsed into these;
// `task.status` is written by Hangar itself at every lifecycle transition.
export const EVENT_TYPES = [
  'task.status',
  'system.init',
  'assistant.text',
  'assistant.thinking',
  'tool.use',
  'tool.result',
  'api.retry',
  'result',
  'stderr',
  'output.truncated',
  'budget.warning',
  'approval.requested',
  'approval.answered',
  'unknown',
] as const;
export const EventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventTypeSchema>;

export const AgentEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('task.status'),
    data: z.object({ status: TaskStatusSchema, reason: z.string().optional() }),
  }),
  z.object({
    type: z.literal('system.init'),
    data: z.object({
      sessionId: z.string(),
      model: z.string().optional(),
      cwd: z.string().optional(),
      tools: z.array(z.string()),
      permissionMode: z.string().optional(),
      cliVersion: z.string().optional(),
      // The MCP servers the CLI started with, and how each came up (`connected`, `failed` …).
      mcpServers: z.array(z.object({ name: z.string(), status: z.string() })).optional(),
    }),
  }),
  // `parentToolUseId`: the subagent's tool call (Task) this came from; absent at the top level.
  // `usage`: the model call's tokens, on the first event of each model message.
  z.object({
    type: z.literal('assistant.text'),
    data: z.object({
      text: z.string(),
      messageId: z.string().optional(),
      parentToolUseId: z.string().optional(),
      usage: TaskUsageSchema.optional(),
    }),
  }),
  z.object({
    type: z.literal('assistant.thinking'),
    data: z.object({
      text: z.string(),
      messageId: z.string().optional(),
      parentToolUseId: z.string().optional(),
      usage: TaskUsageSchema.optional(),
    }),
  }),
  z.object({
    type: z.literal('tool.use'),
    data: z.object({
      toolUseId: z.string(),
      name: z.string(),
      input: z.unknown(),
      messageId: z.string().optional(),
      parentToolUseId: z.string().optional(),
      usage: TaskUsageSchema.optional(),
    }),
  }),
  z.object({
    type: z.literal('tool.result'),
    data: z.object({
      toolUseId: z.string(),
      content: z.string(),
      isError: z.boolean(),
      parentToolUseId: z.string().optional(),
    }),
  }),
  z.object({
    type: z.literal('api.retry'),
    data: z.object({
      attempt: z.number().optional(),
      maxRetries: z.number().optional(),
      delayMs: z.number().optional(),
      status: z.number().nullable().optional(),
      error: z.string().optional(),
    }),
  }),
  z.object({
    type: z.literal('result'),
    data: z.object({
      subtype: z.string(),
      isError: z.boolean(),
      result: z.string().nullable(),
      costUsd: z.number().nullable(),
      usage: TaskUsageSchema,
      numTurns: z.number().int().nullable(),
      durationMs: z.number().int().nullable(),
      sessionId: z.string().nullable(),
      // Tool calls the CLI's permission rules refused during the run.
      permissionDenials: z.array(z.object({ tool: z.string(), toolUseId: z.string().optional() })).optional(),
    }),
  }),
  z.object({ type: z.literal('stderr'), data: z.object({ line: z.string() }) }),
  // A line of the CLI's output over the event size cap: only its first bytes are kept (never
  // parsed), with the size it had.
  z.object({
    type: z.literal('output.truncated'),
    data: z.object({
      stream: z.enum(['stdout', 'stderr']),
      bytes: z.number().int().nonnegative(),
      head: z.string(),
    }),
  }),
  // A model call of this task brought a budget to its soft limit (docs/governance.md): once per
  // budget and period window, on the task whose call did.
  z.object({
    type: z.literal('budget.warning'),
    data: z.object({
      budgetId: z.string(),
      label: z.string(),
      softPercent: z.number().int(),
      spentUsd: z.number(),
      limitUsd: z.number().nullable(),
      spentTokens: z.number().int(),
      limitTokens: z.number().int().nullable(),
    }),
  }),
  // A tool call of the agent waits for a person (docs/governance.md): the approval, answered
  // through REST, Socket.IO or the CLI before its deadline.
  z.object({
    type: z.literal('approval.requested'),
    data: z.object({
      approvalId: z.string(),
      tool: z.string(),
      input: z.unknown(),
      rule: z.string(),
      deadline: z.string(),
    }),
  }),
  // Its answer reached the agent: allowed (once, or for the task), denied with the message the
  // agent was given, or expired (no answer before the deadline, or the attempt ended).
  z.object({
    type: z.literal('approval.answered'),
    data: z.object({
      approvalId: z.string(),
      tool: z.string(),
      status: z.enum(['ALLOWED', 'DENIED', 'EXPIRED']),
      decision: z.enum(['allow-once', 'allow-task', 'deny']).nullable(),
      by: z.string().nullable(),
      message: z.string().nullable(),
      waitedMs: z.number().int().nonnegative(),
    }),
  }),
  // Anything the parser does not know is kept whole, never dropped.
  z.object({ type: z.literal('unknown'), data: z.object({ raw: z.unknown() }) }),
]);
export type AgentEvent = z.infer<typeof AgentEventSchema>;
export type AgentEventOf<T extends EventType> = Extract<AgentEvent, { type: T }>;

// An event as stored and delivered: numbered per task from 1, without gaps.
export const TaskEventSchema = AgentEventSchema.and(
  z.object({ taskId: z.string(), seq: z.number().int().positive(), at: z.string() }),
);
export type TaskEvent = AgentEvent & { taskId: string; seq: number; at: string };

// `GET /api/v1/tasks/:id/events`: a page stops before `maxBytes` of events (as JSON, roughly: a
// little over), always holding at least one; `nextAfterSeq` continues it, null once the page
// reached the last stored event.
export const TASK_EVENTS_PAGE_BYTES = 4 * 1024 * 1024;
export const ListTaskEventsQuerySchema = z.object({
  afterSeq: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  maxBytes: z.coerce.number().int().min(1024).max(TASK_EVENTS_PAGE_BYTES).default(TASK_EVENTS_PAGE_BYTES),
});
export type ListTaskEventsQuery = z.infer<typeof ListTaskEventsQuerySchema>;

export const TaskEventPageSchema = z.object({
  items: z.array(TaskEventSchema),
  nextAfterSeq: z.number().int().nonnegative().nullable(),
});
export type TaskEventPage = z.infer<typeof TaskEventPageSchema>;
