import { z } from 'zod';
import { CreateTaskSchema, ProfileNameSchema, TaskSchema, type Task } from './task';
import { byCodeUnit } from './text';
import { withTrace } from './trace';
import { WorkflowRunSchema } from './workflows';

// Agents that delegate (docs/delegation.md): a profile may give its agent Hangar's own MCP
// server, whose tools start child tasks on the profiles it allows, wait for them, read their
// results and diffs, and cancel them.

// A profile's delegation setting. Off unless enabled; a child's profile must be listed.
export const DelegationSettingsSchema = z
  .object({
    enabled: z.boolean().default(false),
    // The profiles (of the same project) a child may run on.
    profiles: z.array(ProfileNameSchema).max(50).default([]),
    // The deepest a child may be, counting the tree's root as 0: 1 lets a root start children,
    // and refuses their own children.
    maxDepth: z.number().int().min(1).max(10).default(1),
    // How many children one task may start, finished ones included.
    maxChildren: z.number().int().min(1).max(100).default(5),
  })
  .strict();
export type DelegationSettings = z.infer<typeof DelegationSettingsSchema>;
export const DELEGATION_OFF: DelegationSettings = DelegationSettingsSchema.parse({});

// The name of Hangar's server in an agent's MCP config: its tools are `mcp__hangar__<tool>`.
export const HANGAR_MCP_SERVER = 'hangar';
// Where an attempt's agent reaches it on the runner's endpoints.
export const HANGAR_MCP_PATH = '/mcp';

// What an agent may ask of a child: a task's own fields (prompt, profile, scenario, where to
// work, limits). The child's project, tree and routing come from its parent, never the agent.
export const ChildTaskRequestSchema = z
  .object(CreateTaskSchema.shape)
  .pick({
    prompt: true,
    profile: true,
    scenario: true,
    timeoutSeconds: true,
    priority: true,
    repository: true,
    ref: true,
    push: true,
    requires: true,
  })
  .strict();
export type ChildTaskRequest = z.infer<typeof ChildTaskRequestSchema>;

// Message patterns of delegation over the Redis transport (with the others in messages.ts).
export const DelegationPatterns = {
  // agent-runner → gateway (request, idempotent on childId): start a child task of a running
  // task through the same creation policy as the REST API.
  startChildTask: 'delegation.start-task',
  // agent-runner → gateway (request, idempotent on runId): start a run of one of the project's
  // workflows as a child of a running task.
  startChildWorkflow: 'delegation.start-workflow',
} as const;

export const StartChildTaskMessageSchema = withTrace(
  z.object({
    parentTaskId: z.string().min(1),
    // The parent's attempt whose agent asks: a child of an ended attempt is refused.
    attempt: z.number().int().positive(),
    // Chosen by the runner: a request handled twice (two gateways, a retry) creates one child.
    childId: z.string().min(1).max(64),
    request: ChildTaskRequestSchema,
  }),
);
export type StartChildTaskMessage = z.infer<typeof StartChildTaskMessageSchema>;

export const StartChildTaskReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), task: TaskSchema }),
  // `code`: a HangarError code, or `DELEGATION_REFUSED` for the delegation policy.
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type StartChildTaskReply = z.infer<typeof StartChildTaskReplySchema>;

// A workflow run an agent may ask for: one of its project's workflows, by name (newest version).
export const ChildWorkflowRequestSchema = z
  .object({
    workflow: z.string().min(1).max(100),
    inputs: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ChildWorkflowRequest = z.infer<typeof ChildWorkflowRequestSchema>;

export const StartChildWorkflowMessageSchema = withTrace(
  z.object({
    parentTaskId: z.string().min(1),
    attempt: z.number().int().positive(),
    runId: z.string().min(1).max(64),
    request: ChildWorkflowRequestSchema,
  }),
);
export type StartChildWorkflowMessage = z.infer<typeof StartChildWorkflowMessageSchema>;

export const StartChildWorkflowReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), run: WorkflowRunSchema }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type StartChildWorkflowReply = z.infer<typeof StartChildWorkflowReplySchema>;

// The MCP tools' inputs (the runner's /mcp endpoint).
export const WaitToolInputSchema = z.object({
  ids: z.array(z.string().min(1)).max(100).optional(),
  timeoutSeconds: z.number().int().min(1).max(3600).optional(),
});
export const ChildIdInputSchema = z.object({ id: z.string().min(1) });

// GET /api/v1/tasks/:id/tree: the whole tree of the task's root, each task with its children.
export type TaskTreeNode = Task & { children: TaskTreeNode[] };
export const TaskTreeNodeSchema: z.ZodType<TaskTreeNode> = TaskSchema.extend({
  get children() {
    return z.array(TaskTreeNodeSchema);
  },
});

// Nests a tree's tasks (parents before children or not) under their parents from `rootId`.
export function nestTaskTree(rootId: string, tasks: readonly Task[]): TaskTreeNode | undefined {
  const nodes = new Map(tasks.map((task) => [task.id, { ...task, children: [] as TaskTreeNode[] }]));
  for (const node of nodes.values()) {
    if (node.parentTaskId && node.id !== rootId) nodes.get(node.parentTaskId)?.children.push(node);
  }
  for (const node of nodes.values()) node.children.sort((a, b) => byCodeUnit(a.createdAt, b.createdAt));
  return nodes.get(rootId);
}
