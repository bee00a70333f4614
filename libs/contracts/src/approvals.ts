import { z } from 'zod';

// Approvals for headless agents (docs/governance.md): a profile names the tool calls a person
// must allow; the agent's call waits for an answer from an operator of the task's project.

// The tools whose patterns may carry a specifier in parentheses, and what it matches:
// Bash a command (`git push:*` a prefix, `rm *` a wildcard, else the exact command); the file
// tools a path glob (`/` starts an absolute path as the agent sees it, anything else is in the
// workspace); WebFetch `domain:<host>`. Any other tool, and an MCP server (`mcp__<server>`) or
// one of its tools (`mcp__<server>__<tool>`), by its name alone.
export const APPROVAL_PATH_TOOLS = ['Edit', 'Write', 'MultiEdit', 'NotebookEdit', 'Read'] as const;

export const ApprovalPatternSchema = z
  .string()
  .min(1)
  .max(300)
  .superRefine((pattern, context) => {
    const match = /^([A-Za-z][\w-]*)(?:\((.+)\))?$/s.exec(pattern);
    if (!match) {
      context.addIssue({
        code: 'custom',
        message:
          'must be a tool name, optionally with a specifier in parentheses: Bash(git push:*), Write(/etc/**), mcp__github',
      });
      return;
    }
    const [, tool, specifier] = match;
    if (specifier === undefined) return;
    if (tool!.startsWith('mcp__'))
      context.addIssue({ code: 'custom', message: 'an MCP tool or server is named without parentheses' });
    else if (tool === 'WebFetch' && !/^domain:[A-Za-z0-9.*-]+$/.test(specifier))
      context.addIssue({
        code: 'custom',
        message: 'WebFetch takes domain:<host>, as WebFetch(domain:example.com)',
      });
    else if (
      tool !== 'Bash' &&
      tool !== 'WebFetch' &&
      !(APPROVAL_PATH_TOOLS as readonly string[]).includes(tool!)
    )
      context.addIssue({
        code: 'custom',
        message: `${tool} takes no specifier: only Bash, WebFetch and the file tools (${APPROVAL_PATH_TOOLS.join(', ')}) do`,
      });
    else if (/[\n\r]/.test(specifier)) context.addIssue({ code: 'custom', message: 'must be one line' });
  });

export const APPROVAL_TIMEOUT_SECONDS_DEFAULT = 900;

// A profile's approval policy. Off while `tools` is empty; Claude Code only (its permission
// prompt tool): a profile of another CLI with tools to approve is refused.
export const ApprovalPolicySchema = z
  .strictObject({
    tools: z.array(ApprovalPatternSchema).max(50).default([]),
    // How long a call waits for an answer before it is denied. The wait does not count against
    // the task's timeout.
    timeoutSeconds: z.number().int().min(5).max(86_400).default(APPROVAL_TIMEOUT_SECONDS_DEFAULT),
  })
  .describe("the tool calls of the profile's agents that wait for a person's approval (docs/governance.md)");
export type ApprovalPolicy = z.infer<typeof ApprovalPolicySchema>;
export const APPROVALS_OFF: ApprovalPolicy = ApprovalPolicySchema.parse({});

// The tool Hangar's MCP server offers Claude Code as its --permission-prompt-tool.
export const APPROVAL_TOOL = 'permission_prompt';

export const APPROVAL_STATUSES = ['PENDING', 'ALLOWED', 'DENIED', 'EXPIRED'] as const;
export const ApprovalStatusSchema = z.enum(APPROVAL_STATUSES);
export type ApprovalStatus = z.infer<typeof ApprovalStatusSchema>;

// allow-once: this call; allow-task: this call and every later call the same pattern matches,
// for the rest of the task; deny: the agent is told no, with the message, and goes on.
export const APPROVAL_DECISIONS = ['allow-once', 'allow-task', 'deny'] as const;
export const ApprovalAnswerDecisionSchema = z.enum(APPROVAL_DECISIONS);
export type ApprovalAnswerDecision = z.infer<typeof ApprovalAnswerDecisionSchema>;

// The least project role that may answer.
export const APPROVAL_ANSWER_ROLE = 'operator';

export const ApprovalSchema = z.object({
  id: z.string(),
  taskId: z.string(),
  project: z.string(),
  profile: z.string(),
  attempt: z.number().int(),
  // The tool call: the CLI's tool name and its input, as the agent sent them.
  tool: z.string(),
  input: z.unknown(),
  // The profile's pattern the call matched.
  rule: z.string(),
  status: ApprovalStatusSchema,
  decision: ApprovalAnswerDecisionSchema.nullable(),
  // A denial's message to the agent, or why it expired.
  message: z.string().nullable(),
  answeredBy: z.string().nullable(),
  answeredAt: z.string().nullable(),
  // Who may answer: operators (and admins) of the project.
  answerableBy: z.literal(APPROVAL_ANSWER_ROLE),
  deadline: z.string(),
  createdAt: z.string(),
});
export type Approval = z.infer<typeof ApprovalSchema>;
export const ApprovalListSchema = z.object({ items: z.array(ApprovalSchema) });
export type ApprovalList = z.infer<typeof ApprovalListSchema>;

export const AnswerApprovalSchema = z
  .strictObject({
    decision: ApprovalAnswerDecisionSchema,
    // What the agent is told with a denial (a default says who denied it); an allow takes none.
    message: z.string().trim().min(1).max(2000).optional(),
  })
  .superRefine((answer, context) => {
    if (answer.message !== undefined && answer.decision !== 'deny')
      context.addIssue({ code: 'custom', path: ['message'], message: 'only a denial carries a message' });
  });
export type AnswerApprovalRequest = z.infer<typeof AnswerApprovalSchema>;

export const ListApprovalsQuerySchema = z.strictObject({
  project: z.string().min(1).max(100).optional(),
  task: z.string().min(1).max(64).optional(),
  status: z.enum(['pending', 'answered', 'all']).default('pending'),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
export type ListApprovalsQuery = z.infer<typeof ListApprovalsQuerySchema>;

// What Claude Code sends its permission prompt tool, and the answer it reads (the tool's text).
export const PermissionPromptInputSchema = z.object({
  tool_name: z.string().min(1).max(200),
  input: z.record(z.string(), z.unknown()),
  tool_use_id: z.string().max(200).optional(),
});
export type PermissionPromptInput = z.infer<typeof PermissionPromptInputSchema>;
export type PermissionPromptAnswer =
  { behavior: 'allow'; updatedInput: Record<string, unknown> } | { behavior: 'deny'; message: string };

// Socket.IO: answering an approval (docs/realtime.md), with an ack.
export const ApprovalAnswerMessageSchema = AnswerApprovalSchema.and(
  z.object({ approvalId: z.string().min(1).max(64) }),
);
export type ApprovalAnswerMessage = z.infer<typeof ApprovalAnswerMessageSchema>;
