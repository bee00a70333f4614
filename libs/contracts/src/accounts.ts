import { z } from 'zod';
import { RoutingStrategySchema } from './routing';

// Roles are per project; each includes what the roles before it may do.
//   viewer   reads everything in the project
//   operator + starts, cancels and retries tasks, talks in conversations, makes its own API tokens
//   admin    + profiles, webhooks, members, every token of the project, the audit log
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

export const ProjectSlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a project slug: lowercase letters, digits and dashes');

// `?project=<slug>` picks the project of a request when the caller may see several.
export const ProjectQuerySchema = z.object({ project: ProjectSlugSchema.optional() });

export const ProjectSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  createdAt: z.string(),
  // How its tasks are routed to runner pools (null: the installation's ROUTING_STRATEGY).
  routingStrategy: RoutingStrategySchema.nullable(),
  // The caller's role in it.
  role: RoleSchema,
});
export type Project = z.infer<typeof ProjectSchema>;

export const CreateProjectSchema = z
  .object({ slug: ProjectSlugSchema, name: z.string().trim().min(1).max(200) })
  .strict();
export type CreateProjectRequest = z.infer<typeof CreateProjectSchema>;

export const UpdateProjectSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    routingStrategy: RoutingStrategySchema.nullable().optional(),
  })
  .strict();
export type UpdateProjectRequest = z.infer<typeof UpdateProjectSchema>;

export const EmailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .pipe(z.email({ error: 'must be an email address' }));
export const PasswordSchema = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters');

export const UserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  // Instance administrators manage users and projects, and are admins of every project.
  isAdmin: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.string(),
  lastLoginAt: z.string().nullable(),
});
export type User = z.infer<typeof UserSchema>;

export const CreateUserSchema = z
  .object({
    email: EmailSchema,
    name: z.string().trim().min(1).max(200),
    password: PasswordSchema,
    isAdmin: z.boolean().optional(),
  })
  .strict();
export type CreateUserRequest = z.infer<typeof CreateUserSchema>;

export const UpdateUserSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    password: PasswordSchema.optional(),
    // Needed when users change their own password.
    currentPassword: z.string().max(256).optional(),
    isAdmin: z.boolean().optional(),
    disabled: z.boolean().optional(),
  })
  .strict();
export type UpdateUserRequest = z.infer<typeof UpdateUserSchema>;

export const MemberSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  role: RoleSchema,
  createdAt: z.string(),
});
export type Member = z.infer<typeof MemberSchema>;

export const SetMemberSchema = z.object({ role: RoleSchema }).strict();
export type SetMemberRequest = z.infer<typeof SetMemberSchema>;

export const LoginSchema = z.object({ email: EmailSchema, password: z.string().min(1).max(256) }).strict();
export type LoginRequest = z.infer<typeof LoginSchema>;

// Who the caller is (GET /api/v1/auth/me): a signed-in user or an API token, and its projects.
export const MeSchema = z.object({
  kind: z.enum(['user', 'token']),
  user: UserSchema.nullable(),
  token: z.object({ id: z.string(), name: z.string(), prefix: z.string() }).nullable(),
  projects: z.array(ProjectSchema),
});
export type Me = z.infer<typeof MeSchema>;

// API tokens look like hgr_<40 letters and digits>: the prefix makes a leaked one greppable
// (and lets secret scanners find it); only its sha256 is stored.
export const API_TOKEN_PREFIX = 'hgr_';
export const API_TOKEN_PATTERN = /^hgr_[A-Za-z0-9]{40}$/;

export const ApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  // The first characters of the token, enough to tell tokens apart.
  prefix: z.string(),
  role: RoleSchema,
  project: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;

export const CreateApiTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    // Default: the creator's own role; never more than it.
    role: RoleSchema.optional(),
    // Default: 90 days. `null` for a token that never expires.
    expiresInDays: z.number().int().min(1).max(3650).nullable().optional(),
  })
  .strict();
export type CreateApiTokenRequest = z.infer<typeof CreateApiTokenSchema>;

// The only answer that ever carries the token itself.
export const CreatedApiTokenSchema = ApiTokenSchema.extend({ token: z.string() });
export type CreatedApiToken = z.infer<typeof CreatedApiTokenSchema>;

export const ACTOR_TYPES = ['user', 'token', 'webhook', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  project: z.string().nullable(),
  actor: z.object({ type: z.enum(ACTOR_TYPES), id: z.string().nullable(), label: z.string() }),
  // e.g. task.create, token.revoke, member.set
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  traceId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const ListAuditQuerySchema = z
  .object({
    project: ProjectSlugSchema.optional(),
    action: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListAuditQuery = z.infer<typeof ListAuditQuerySchema>;

export const AuditPageSchema = z.object({
  items: z.array(AuditEntrySchema),
  nextCursor: z.string().nullable(),
});
export type AuditPage = z.infer<typeof AuditPageSchema>;
