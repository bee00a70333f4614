import { z } from 'zod';
import { ProfileNameSchema } from './task';

// What a task's model calls used so far, as the model gateway metered them while it ran
// (docs/governance.md): how many calls, their tokens by kind (input without cache reads and
// writes), and their cost. `unpricedCalls` of them have no cost (their answer said no usage, or
// the price table has no price for their model): the cost is then a floor, never a guess.
export const ModelUsageSchema = z.object({
  taskId: z.string(),
  calls: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  costUsd: z.number(),
  unpricedCalls: z.number().int(),
});
export type ModelUsage = z.infer<typeof ModelUsageSchema>;

// Budgets (docs/governance.md): a limit on what model calls may cost, checked by the model
// gateway before each call. A budget is of the installation, a project, a user in a project, an
// API token, a profile of a project, a workflow run or a task; it counts per day or month (UTC)
// or in total; in dollars, tokens (every kind), or both.
export const BUDGET_SCOPES = [
  'installation',
  'project',
  'user',
  'token',
  'profile',
  'workflow-run',
  'task',
] as const;
export const BudgetScopeSchema = z.enum(BUDGET_SCOPES);
export type BudgetScope = z.infer<typeof BudgetScopeSchema>;
export const BudgetPeriodSchema = z.enum(['day', 'month', 'total']);
export type BudgetPeriod = z.infer<typeof BudgetPeriodSchema>;

export const CreateBudgetSchema = z
  .strictObject({
    scope: BudgetScopeSchema,
    // The profile (scope `profile`), by name in the request's project.
    profile: ProfileNameSchema.optional(),
    // The user (scope `user`), by email: a member of the request's project.
    user: z.string().trim().min(1).max(320).optional(),
    // The API token's, workflow run's or task's id (scopes `token`, `workflow-run`, `task`).
    target: z.string().trim().min(1).max(64).optional(),
    period: BudgetPeriodSchema.default('total'),
    limitUsd: z.number().positive().max(1_000_000_000).optional(),
    limitTokens: z.number().int().positive().max(1_000_000_000_000).optional(),
    // The share of a limit at which it warns (a soft limit), before it stops calls at 100.
    softPercent: z.number().int().min(1).max(100).default(80),
  })
  .superRefine((budget, context) => {
    if (budget.limitUsd === undefined && budget.limitTokens === undefined)
      context.addIssue({ code: 'custom', path: ['limitUsd'], message: 'give limitUsd, limitTokens or both' });
    if (budget.scope === 'profile' && budget.profile === undefined)
      context.addIssue({ code: 'custom', path: ['profile'], message: 'a profile budget names its profile' });
    if (budget.scope !== 'profile' && budget.profile !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['profile'],
        message: `a ${budget.scope} budget has no profile`,
      });
    if (budget.scope === 'user' && budget.user === undefined)
      context.addIssue({ code: 'custom', path: ['user'], message: "a user budget names its user's email" });
    if (budget.scope !== 'user' && budget.user !== undefined)
      context.addIssue({ code: 'custom', path: ['user'], message: `a ${budget.scope} budget has no user` });
    const targeted = budget.scope === 'token' || budget.scope === 'workflow-run' || budget.scope === 'task';
    if (targeted && budget.target === undefined)
      context.addIssue({
        code: 'custom',
        path: ['target'],
        message: `a ${budget.scope} budget names its ${budget.scope}'s id`,
      });
    if (!targeted && budget.target !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['target'],
        message: `a ${budget.scope} budget has no target`,
      });
  });
export type CreateBudgetRequest = z.infer<typeof CreateBudgetSchema>;

export const BudgetSchema = z.object({
  id: z.string(),
  scope: BudgetScopeSchema,
  // The project's slug (null: the installation's).
  project: z.string().nullable(),
  profile: z.string().nullable(),
  // The user's email (scope `user`).
  user: z.string().nullable(),
  // The token's, run's or task's id.
  target: z.string().nullable(),
  period: BudgetPeriodSchema,
  limitUsd: z.number().nullable(),
  limitTokens: z.number().int().nullable(),
  softPercent: z.number().int(),
  // Spent in the current period (today, this month, or in total).
  spentUsd: z.number(),
  spentTokens: z.number().int(),
  // How errors and events name it, e.g. `project "web" per day ($5)`.
  label: z.string(),
  createdAt: z.string(),
});
export type Budget = z.infer<typeof BudgetSchema>;
export const BudgetListSchema = z.object({ items: z.array(BudgetSchema) });

// What Hangar posts to an installation's notification hook (NOTIFY_WEBHOOK_URL, JSON, signed
// with NOTIFY_WEBHOOK_SECRET when set; docs/governance.md).
export const NotificationSchema = z.discriminatedUnion('kind', [
  // A budget reached its soft limit (once per budget and period window), by a call of `task`.
  z.object({
    kind: z.literal('budget.warning'),
    at: z.string(),
    budget: z.object({
      id: z.string(),
      label: z.string(),
      scope: BudgetScopeSchema,
      project: z.string().nullable(),
      period: BudgetPeriodSchema,
      softPercent: z.number().int(),
      limitUsd: z.number().nullable(),
      limitTokens: z.number().int().nullable(),
    }),
    spentUsd: z.number(),
    spentTokens: z.number().int(),
    task: z.object({ id: z.string(), project: z.string() }),
  }),
  // A tool call of `task` waits for an operator's answer until `deadline` (docs/governance.md):
  // answered with `POST /api/v1/approvals/<id>/answer`, `hangar approvals`, or Socket.IO.
  z.object({
    kind: z.literal('approval.requested'),
    at: z.string(),
    approval: z.object({
      id: z.string(),
      tool: z.string(),
      rule: z.string(),
      input: z.unknown(),
      deadline: z.string(),
    }),
    task: z.object({ id: z.string(), project: z.string(), profile: z.string() }),
  }),
]);
export type Notification = z.infer<typeof NotificationSchema>;
// The header that carries the body's HMAC-SHA256 with the hook's secret: `sha256=<hex>`.
export const NOTIFICATION_SIGNATURE_HEADER = 'x-hangar-signature-256';
