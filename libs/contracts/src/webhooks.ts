import { z } from 'zod';
import { ApprovalAnswerDecisionSchema } from './approvals';
import { ProjectSlugSchema } from './accounts';
import { ProfileNameSchema, RepositoryFieldsSchema, ScenarioNameSchema, TaskPrioritySchema } from './task';
import { StepIdSchema, WorkflowDefinitionSchema } from './workflows';

export const WEBHOOK_PROVIDERS = ['github', 'slack', 'jira', 'sentry'] as const;
export const WebhookProviderSchema = z.enum(WEBHOOK_PROVIDERS);
export type WebhookProvider = z.infer<typeof WebhookProviderSchema>;

// A dotted path into the payload (and the `hangar` variables); `*` stands for every element of
// an array: `issue.labels.*.name`.
export const PayloadPathSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_$-]+(\.([A-Za-z0-9_$-]+|\*))*$/, 'must be a dotted path such as issue.labels.*.name');

export const CONDITION_OPERATORS = [
  'equals',
  'notEquals',
  'contains',
  'matches',
  'exists',
  'missing',
  'in',
] as const;

export const ConditionSchema = z
  .object({
    path: PayloadPathSchema,
    op: z.enum(CONDITION_OPERATORS),
    value: z
      .union([z.string().max(1000), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))])
      .optional(),
  })
  .strict()
  .superRefine((condition, context) => {
    const needsValue = !['exists', 'missing'].includes(condition.op);
    if (needsValue && condition.value === undefined) {
      context.addIssue({ code: 'custom', message: `${condition.op} needs a value`, path: ['value'] });
    }
    if (condition.op === 'in' && !Array.isArray(condition.value)) {
      context.addIssue({ code: 'custom', message: 'in needs a list of values', path: ['value'] });
    }
    // A `matches` pattern is RE2 syntax, checked by the gateway, which runs it: JavaScript's own
    // RegExp would take backreferences RE2 refuses, and refuse RE2's (?P<name>…).
  });
export type Condition = z.infer<typeof ConditionSchema>;

// What makes a command apply to an event.
//   mention  the text addresses Hangar: the configuration's prefix (`@hangar`; a Slack app mention),
//            then the command's name or an alias as the first word (name `*`: any text)
//   slash    a Slack slash command named like the command or an alias (`/hangar`)
//   label    the label was added (GitHub issues, Jira)
//   status   the issue moved into this status (a Jira transition)
//   event    every event the command lists (alerts)
export const TriggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('mention') }).strict(),
  z.object({ type: z.literal('slash') }).strict(),
  z.object({ type: z.literal('label'), label: z.string().min(1).max(100) }).strict(),
  z.object({ type: z.literal('status'), status: z.string().min(1).max(100) }).strict(),
  z.object({ type: z.literal('event') }).strict(),
]);
export type Trigger = z.infer<typeof TriggerSchema>;

// Templates are Handlebars (`{{issue.title}}`, `{{hangar.args}}`), rendered strictly: a variable
// the payload does not have is an error, never a silent blank.
export const TemplateSchema = z.string().min(1).max(20_000);

export const CommandActionSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('create_task'),
      template: TemplateSchema,
      profile: ProfileNameSchema.optional(),
      priority: TaskPrioritySchema.optional(),
      // A template too: GitHub's default is {{repository.clone_url}}.
      repository: z.string().min(1).max(2048).optional(),
      ref: RepositoryFieldsSchema.shape.ref,
      scenario: ScenarioNameSchema.optional(),
      timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    })
    .strict(),
  // Starts a run of a workflow of the receiver's project (docs/workflows.md). Each input is a
  // template; its text is read as the type the workflow declares for the input (a number,
  // true/false, JSON for arrays and objects).
  z
    .object({
      type: z.literal('start_workflow'),
      workflow: WorkflowDefinitionSchema.shape.name,
      inputs: z.record(StepIdSchema, TemplateSchema).default({}),
    })
    .strict(),
  z.object({ type: z.literal('comment'), template: TemplateSchema }).strict(),
  // Answers a tool call of the thread's task that waits for approval (docs/governance.md): the
  // approval's id is the first word after the command (none: the thread's one pending approval),
  // a denial's message the rest.
  z.object({ type: z.literal('answer_approval'), decision: ApprovalAnswerDecisionSchema }).strict(),
  z.object({ type: z.literal('react'), reaction: z.string().min(1).max(50) }).strict(),
  z.object({ type: z.literal('label'), label: z.string().min(1).max(100) }).strict(),
]);
export type CommandAction = z.infer<typeof CommandActionSchema>;

export const WebhookCommandSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^(\*|[a-z0-9][a-z0-9_-]{0,62})$/,
        'must be a command word: lowercase letters, digits, - and _ (or *)',
      ),
    aliases: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a command word'))
      .max(20)
      .default([]),
    // Provider events it applies to: `issue_comment` or `issue_comment.created`; empty: any.
    events: z.array(z.string().min(1).max(100)).max(50).default([]),
    trigger: TriggerSchema,
    conditions: z.array(ConditionSchema).max(50).default([]),
    action: CommandActionSchema,
  })
  .strict();
export type WebhookCommand = z.infer<typeof WebhookCommandSchema>;
export type WebhookCommandInput = z.input<typeof WebhookCommandSchema>;

// Credentials for answering through the provider's API; write-only (the API never returns them).
export const WebhookCredentialsSchema = z
  .object({
    // GitHub: a token that may comment, react and label.
    token: z.string().min(1).max(1000).optional(),
    // Slack: a bot token (xoxb-…).
    botToken: z.string().min(1).max(1000).optional(),
    // Jira: an account email and API token.
    email: z.string().min(1).max(320).optional(),
    apiToken: z.string().min(1).max(1000).optional(),
  })
  .strict();
export type WebhookCredentials = z.infer<typeof WebhookCredentialsSchema>;

// GitHub's author_association of a comment, issue, pull request or review: the author's relation
// to the repository.
export const GITHUB_AUTHOR_ASSOCIATIONS = [
  'OWNER',
  'MEMBER',
  'COLLABORATOR',
  'CONTRIBUTOR',
  'FIRST_TIME_CONTRIBUTOR',
  'FIRST_TIMER',
  'MANNEQUIN',
  'NONE',
] as const;
export const GithubAuthorAssociationSchema = z.enum(GITHUB_AUTHOR_ASSOCIATIONS);
export type GithubAuthorAssociation = z.infer<typeof GithubAuthorAssociationSchema>;
// Who may make a GitHub receiver act unless its configuration says otherwise: people with a
// place in the repository, not anyone who can comment on a public one.
export const DEFAULT_AUTHOR_ASSOCIATIONS: readonly GithubAuthorAssociation[] = [
  'OWNER',
  'MEMBER',
  'COLLABORATOR',
];
const AuthorAssociationsSchema = z.array(GithubAuthorAssociationSchema).min(1).max(8);

const WebhookFieldsSchema = z.object({
  name: z.string().trim().min(1).max(100),
  // The signing secret (GitHub/Jira HMAC key, Slack signing secret, Sentry client secret).
  // Made for you when absent, and shown once.
  secret: z.string().min(16, 'must be at least 16 characters').max(500).optional(),
  // What addresses Hangar in a comment or message.
  prefix: z.string().trim().min(1).max(50).default('@hangar'),
  commands: z.array(WebhookCommandSchema).min(1).max(100),
  enabled: z.boolean().default(true),
  // The provider's API when it is not the public one: GitHub Enterprise, a Jira site, a Slack proxy.
  apiUrl: z.url().max(2048).nullable().optional(),
  credentials: WebhookCredentialsSchema.optional(),
  // GitHub only: whose comments, issues and pull requests it acts on (default OWNER, MEMBER,
  // COLLABORATOR).
  authorAssociations: AuthorAssociationsSchema.optional(),
});

export const CreateWebhookSchema = WebhookFieldsSchema.extend({ provider: WebhookProviderSchema })
  .strict()
  .superRefine((webhook, context) => {
    if (webhook.authorAssociations !== undefined && webhook.provider !== 'github') {
      context.addIssue({
        code: 'custom',
        message: 'only GitHub deliveries say who wrote them (author_association)',
        path: ['authorAssociations'],
      });
    }
  });
export type CreateWebhookRequest = z.infer<typeof CreateWebhookSchema>;

export const UpdateWebhookSchema = z
  .object({
    name: WebhookFieldsSchema.shape.name.optional(),
    secret: WebhookFieldsSchema.shape.secret,
    prefix: z.string().trim().min(1).max(50).optional(),
    commands: WebhookFieldsSchema.shape.commands.optional(),
    enabled: z.boolean().optional(),
    apiUrl: WebhookFieldsSchema.shape.apiUrl,
    credentials: WebhookCredentialsSchema.optional(),
    authorAssociations: AuthorAssociationsSchema.optional(),
  })
  .strict();
export type UpdateWebhookRequest = z.infer<typeof UpdateWebhookSchema>;

export const WebhookSchema = z.object({
  id: z.string(),
  project: z.string(),
  provider: WebhookProviderSchema,
  name: z.string(),
  // Where the provider sends deliveries, relative to the gateway: /webhooks/<provider>/<id>.
  path: z.string(),
  prefix: z.string(),
  commands: z.array(WebhookCommandSchema),
  enabled: z.boolean(),
  apiUrl: z.string().nullable(),
  // Which credentials are set (never their values).
  credentials: z.array(z.string()),
  // GitHub: whose comments, issues and pull requests it acts on; null for the other providers.
  authorAssociations: z.array(GithubAuthorAssociationSchema).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Webhook = z.infer<typeof WebhookSchema>;

export const CreatedWebhookSchema = WebhookSchema.extend({ secret: z.string() });
export type CreatedWebhook = z.infer<typeof CreatedWebhookSchema>;

// rejected   the signature did not verify (or the body could not be read): nothing else is kept
// queued     verified and waiting for the worker
// waiting    the thread's previous turn is still running: tried again when it ends
// ignored    no command matched (reason says why)
// task_created / acted   a task started / a comment, reaction or label was made
// workflow_started        a workflow run started (reason names the run: there is no column for it)
// failed     a template or provider error (reason)
export const DELIVERY_STATUSES = [
  'rejected',
  'queued',
  'waiting',
  'ignored',
  'task_created',
  'workflow_started',
  'acted',
  'failed',
] as const;
export const DeliveryStatusSchema = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

export const WebhookDeliverySchema = z.object({
  id: z.string(),
  // The configuration's id, or null for the static receiver of the provider.
  webhook: z.string().nullable(),
  project: z.string().nullable(),
  provider: WebhookProviderSchema,
  // The provider's own delivery id (X-GitHub-Delivery, Slack event_id …).
  deliveryId: z.string().nullable(),
  event: z.string().nullable(),
  status: DeliveryStatusSchema,
  reason: z.string().nullable(),
  command: z.string().nullable(),
  taskId: z.string().nullable(),
  conversationId: z.string().nullable(),
  // Times the same delivery came again (and was dropped).
  duplicates: z.number().int(),
  receivedAt: z.string(),
  processedAt: z.string().nullable(),
  payload: z.unknown().nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const ListDeliveriesQuerySchema = z
  .object({
    project: ProjectSlugSchema.optional(),
    // A configuration id, or `static` for the static receivers.
    webhook: z.string().min(1).max(100).optional(),
    provider: WebhookProviderSchema.optional(),
    status: DeliveryStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuerySchema>;

export const DeliveryPageSchema = z.object({
  items: z.array(WebhookDeliverySchema),
  nextCursor: z.string().nullable(),
});
export type DeliveryPage = z.infer<typeof DeliveryPageSchema>;

// Where a webhook-started task answers, and what a react or label action acts on.
export const ProviderRefSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('github-issue'),
    owner: z.string(),
    repo: z.string(),
    issueNumber: z.number().int(),
    // The comment that asked, when one did (reactions go on it).
    commentId: z.number().int().optional(),
  }),
  z.object({
    kind: z.literal('github-review-comment'),
    owner: z.string(),
    repo: z.string(),
    pullNumber: z.number().int(),
    commentId: z.number().int(),
  }),
  z.object({ kind: z.literal('slack-command'), responseUrl: z.string(), channel: z.string() }),
  z.object({ kind: z.literal('slack-message'), channel: z.string(), ts: z.string(), threadTs: z.string() }),
  z.object({ kind: z.literal('jira-issue'), issueKey: z.string() }),
  z.object({ kind: z.literal('sentry-issue'), issueId: z.string() }),
]);
export type ProviderRef = z.infer<typeof ProviderRefSchema>;

// Durable queues inside the gateway: verified deliveries to process, finished tasks to answer.
// Job ids are the delivery's and the task's, so an enqueue repeated by a sweep is a no-op.
export const WEBHOOK_QUEUE = 'hangar-webhooks';
export const WebhookJobSchema = z.object({ deliveryId: z.string().min(1) });
export type WebhookJob = z.infer<typeof WebhookJobSchema>;

export const WEBHOOK_REPLY_QUEUE = 'hangar-webhook-replies';
// The answer owed to a webhook-started task's thread once it ends; with `approvalId`, a tool
// call of the task waiting for approval, announced in the thread while it runs.
export const WebhookReplyJobSchema = z.object({
  taskId: z.string().min(1),
  approvalId: z.string().min(1).optional(),
});
export type WebhookReplyJob = z.infer<typeof WebhookReplyJobSchema>;
