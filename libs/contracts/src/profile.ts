import { z } from 'zod';
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
const ToolNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s]+$|^[A-Za-z]+\(.*\)$/, 'must be a tool name or pattern');

// An MCP server as Claude Code's --mcp-config takes it: a command to spawn, or a URL.
export const McpServerSchema = z.union([
  z
    .object({
      type: z.literal('stdio').optional(),
      command: z.string().min(1),
      args: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
  z
    .object({
      type: z.enum(['http', 'sse']),
      url: z.string().url(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
]);

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

const ProfileFieldsSchema = z.object({
  provider: ProviderSchema.default('claude'),
  model: z.string().min(1).max(200).nullable().optional(),
  appendSystemPrompt: z.string().max(50_000).nullable().optional(),
  allowedTools: z.array(ToolNameSchema).max(100).optional(),
  disallowedTools: z.array(ToolNameSchema).max(100).optional(),
  permissionMode: z.enum(PERMISSION_MODES).nullable().optional(),
  maxTurns: z.number().int().min(1).max(1000).nullable().optional(),
  timeoutSeconds: z.number().int().min(1).max(86_400).nullable().optional(),
  maxOutputBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .nullable()
    .optional(),
  resources: PodResourcesSchema.nullable().optional(),
  mcpServers: z.record(FileNameSchema, McpServerSchema).optional(),
  agents: z.record(FileNameSchema, z.string().min(1).max(100_000)).optional(),
  skills: z.record(FileNameSchema, z.string().min(1).max(100_000)).optional(),
});

export const CreateProfileSchema = ProfileFieldsSchema.extend({ name: ProfileNameSchema }).strict();
export type CreateProfileRequest = z.infer<typeof CreateProfileSchema>;

export const UpdateProfileSchema = ProfileFieldsSchema.partial().strict();
export type UpdateProfileRequest = z.infer<typeof UpdateProfileSchema>;

export const AgentProfileSchema = z.object({
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
  mcpServers: z.record(z.string(), McpServerSchema),
  agents: z.record(z.string(), z.string()),
  skills: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AgentProfile = z.infer<typeof AgentProfileSchema>;
