import { z } from 'zod';
import { ApprovalPolicySchema } from './approvals';
import { DelegationSettingsSchema } from './delegation';
import { ProfileNameSchema } from './task';

export const PROVIDERS = ['claude', 'codex', 'gemini'] as const;
export const ProviderSchema = z.enum(PROVIDERS);
export type Provider = z.infer<typeof ProviderSchema>;

// Claude Code's --permission-mode values (2.1.x); other providers map or ignore them.
export const PERMISSION_MODES = [
  'acceptEdits',
  'auto',
  'bypassPermissions',
  'dontAsk',
  'manual',
  'plan',
] as const;

const FileNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a file name: lowercase letters, digits, - and _');
// Tool names, patterns and the model are argv entries of the agent CLI (`--allowedTools Bash Read`,
// `--model <name>`): one starting with "-" would be read as a flag of the CLI's own.
const ToolNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s-]\S*$|^[A-Za-z]+\(.*\)$/, 'must be a tool name or pattern, not starting with "-"');
const ModelNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[A-Za-z0-9][\w.:/@[\]+-]*$/,
    'must be a model name: letters, digits and . _ : / @ [ ] + -, starting with a letter or digit',
  );

// Secrets in profiles (MCP server `env` and `headers` values) are write-only: answers show that
// one is set, never its value.
export const SecretSetSchema = z
  .object({ set: z.literal(true) })
  .strict()
  .describe('a secret that is set; its value is never shown');
export type SecretSet = z.infer<typeof SecretSetSchema>;
// In a request: a new value, or {"set": true} to keep the value stored under that name.
const SecretInputSchema = z.union([z.string(), SecretSetSchema]);

// An MCP server as Claude Code's --mcp-config takes it: a command to spawn, or a URL.
function mcpServerSchema<Secret extends z.ZodType>(secret: Secret) {
  return z.union([
    z
      .object({
        type: z.literal('stdio').optional(),
        command: z.string().min(1),
        args: z.array(z.string()).optional(),
        env: z.record(z.string(), secret).optional(),
      })
      .strict(),
    z
      .object({
        type: z.enum(['http', 'sse']),
        url: z.string().url(),
        headers: z.record(z.string(), secret).optional(),
      })
      .strict(),
  ]);
}
// As stored and applied: what the runner writes to the --mcp-config file.
export const McpServerSchema = mcpServerSchema(z.string());
export type McpServer = z.infer<typeof McpServerSchema>;
export const McpServerInputSchema = mcpServerSchema(SecretInputSchema);
export type McpServerInput = z.infer<typeof McpServerInputSchema>;
export const McpServerViewSchema = mcpServerSchema(SecretSetSchema);
export type McpServerView = z.infer<typeof McpServerViewSchema>;

// Kubernetes resource quantities (500m, 2, 1.5Gi, 4e9) by resource name (cpu, memory,
// ephemeral-storage, nvidia.com/gpu …).
const QuantitySchema = z
  .string()
  .regex(
    /^[+]?[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$/,
    'must be a Kubernetes quantity (500m, 2, 4Gi)',
  );
const ResourceListSchema = z.record(
  z
    .string()
    .regex(/^([a-z0-9.-]+\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a resource name (cpu, memory …)'),
  QuantitySchema,
);
export const PodResourcesSchema = z
  .object({ requests: ResourceListSchema.optional(), limits: ResourceListSchema.optional() })
  .strict()
  .describe(
    "requests and limits of each task's pod with the kubernetes executor (over the runner's defaults)",
  );
export type PodResources = z.infer<typeof PodResourcesSchema>;

// The most CLIs a runner keeps warm for one profile.
export const MAX_WARM_AGENTS = 16;

const ProfileFieldsSchema = z.object({
  provider: ProviderSchema,
  model: ModelNameSchema.nullable(),
  appendSystemPrompt: z.string().max(50_000).nullable(),
  allowedTools: z.array(ToolNameSchema).max(100),
  disallowedTools: z.array(ToolNameSchema).max(100),
  permissionMode: z.enum(PERMISSION_MODES).nullable(),
  maxTurns: z.number().int().min(1).max(1000).nullable(),
  timeoutSeconds: z.number().int().min(1).max(86_400).nullable(),
  maxOutputBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .nullable(),
  resources: PodResourcesSchema.nullable(),
  mcpServers: z.record(FileNameSchema, McpServerInputSchema),
  agents: z.record(FileNameSchema, z.string().min(1).max(100_000)),
  skills: z.record(FileNameSchema, z.string().min(1).max(100_000)),
  trustRepositorySettings: z
    .boolean()
    .describe(
      "the agent CLI loads the repository's own settings (hooks, permission rules, MCP servers); " +
        'only an instance administrator may turn it on',
    ),
  internetAccess: z
    .boolean()
    .describe("the profile's tasks may reach the internet through the runner's egress proxy"),
  telemetryContent: z
    .boolean()
    .describe(
      "the agent CLI's own telemetry includes the prompts and the tools' inputs (off: only their " +
        'sizes, names and timings); stored with the task, readable by whoever may read the task',
    ),
  delegation: DelegationSettingsSchema.describe(
    "the agent gets Hangar's MCP server to start child tasks on the listed profiles (docs/delegation.md)",
  ),
  approvals: ApprovalPolicySchema,
  warm: z
    .number()
    .int()
    .min(0)
    .max(MAX_WARM_AGENTS)
    .nullable()
    .describe(
      "agent CLIs each runner keeps started ahead of time for this profile's tasks (docs/performance.md); " +
        "null: the runners' default (RUNNER_WARM_DEFAULT); Claude Code only",
    ),
});

// Defaults apply when a profile is made (trustRepositorySettings, internetAccess and
// telemetryContent: false), never
// to a change: a change leaves out what it keeps.
export const CreateProfileSchema = ProfileFieldsSchema.partial()
  .extend({
    name: ProfileNameSchema,
    provider: ProviderSchema.default('claude'),
  })
  .strict();
export type CreateProfileRequest = z.infer<typeof CreateProfileSchema>;

// `mcpServers`, when given, replaces every server; a secret sent as {"set": true} keeps its value,
// one left out is removed.
export const UpdateProfileSchema = ProfileFieldsSchema.partial().strict();
export type UpdateProfileRequest = z.infer<typeof UpdateProfileSchema>;

function agentProfileSchema<Server extends z.ZodType>(server: Server) {
  return z.object({
    name: z.string(),
    project: z.string(),
    provider: ProviderSchema,
    model: z.string().nullable(),
    appendSystemPrompt: z.string().nullable(),
    allowedTools: z.array(z.string()),
    disallowedTools: z.array(z.string()),
    permissionMode: z.string().nullable(),
    maxTurns: z.number().int().nullable(),
    timeoutSeconds: z.number().int().nullable(),
    maxOutputBytes: z.number().int().nullable(),
    resources: PodResourcesSchema.nullable(),
    mcpServers: z.record(z.string(), server),
    agents: z.record(z.string(), z.string()),
    skills: z.record(z.string(), z.string()),
    trustRepositorySettings: z.boolean(),
    internetAccess: z.boolean(),
    telemetryContent: z.boolean(),
    delegation: DelegationSettingsSchema,
    approvals: ApprovalPolicySchema,
    warm: z.number().int().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  });
}

// A profile with its secrets: what the runner reads from the database and applies. Never an answer.
export const AgentProfileSchema = agentProfileSchema(McpServerSchema);
export type AgentProfile = z.infer<typeof AgentProfileSchema>;

// A profile as the API answers it, to every role: secrets show as {"set": true}.
export const AgentProfileViewSchema = agentProfileSchema(McpServerViewSchema);
export type AgentProfileView = z.infer<typeof AgentProfileViewSchema>;
