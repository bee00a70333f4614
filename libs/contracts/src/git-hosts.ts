import { z } from 'zod';

// Which git hosts a project's tasks may clone from and push to, and the credential each gets
// (@hangar/workspaces gitHostPolicy applies them; docs/api.md "Git hosts").

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
// A host name or [IPv6 address], then an optional :port (no port: 443 for HTTPS, 22 for SSH).
export const GIT_HOST_PATTERN = new RegExp(
  `^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::([1-9][0-9]{0,4}))?$`,
);

export const GitHostNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(270)
  .regex(
    GIT_HOST_PATTERN,
    'must be a host name with an optional :port, e.g. github.com or git.example.com:8443',
  )
  .refine((host) => Number(GIT_HOST_PATTERN.exec(host)?.[1] ?? 1) <= 65535, 'port must be at most 65535');

// HTTPS basic auth: git's askpass helper answers with these, one line each, so no line breaks;
// the user name appears in git's prompt, so it keeps to characters git shows as they are.
export const GitCredentialSchema = z
  .object({
    token: z
      .string()
      .min(1, 'must not be empty')
      .max(4096)
      .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces'),
    username: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9._~+-]+$/, "may only contain letters, digits, '.', '_', '~', '+' and '-'")
      .optional(),
  })
  .strict();
export type GitCredential = z.infer<typeof GitCredentialSchema>;

// One allowed host: with a credential, without one (null: nothing is offered), or — in a PUT —
// left out to keep the one stored for the same host.
export const GitHostEntrySchema = z
  .object({ host: GitHostNameSchema, credential: GitCredentialSchema.nullable().optional() })
  .strict();
export type GitHostEntry = z.infer<typeof GitHostEntrySchema>;

export const MAX_GIT_HOSTS = 100;

function refuseDuplicateHosts(entries: { host: string }[], context: z.RefinementCtx, path: PropertyKey[]) {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.host)) {
      context.addIssue({ code: 'custom', path: [...path, index, 'host'], message: 'is listed twice' });
    }
    seen.add(entry.host);
  });
}

// PUT /api/v1/projects/:slug/git-hosts: the whole list; an empty one hands the project back to
// the installation's GIT_ALLOWED_HOSTS.
export const SetGitHostsSchema = z
  .object({ items: z.array(GitHostEntrySchema).max(MAX_GIT_HOSTS) })
  .strict()
  .superRefine((body, context) => refuseDuplicateHosts(body.items, context, ['items']));
export type SetGitHostsRequest = z.infer<typeof SetGitHostsSchema>;

// What the API shows: credentials are write-only, only whether one is set.
export const GitHostSchema = z.object({ host: z.string(), hasCredential: z.boolean() });
export type GitHost = z.infer<typeof GitHostSchema>;

export const GitHostListSchema = z.object({
  // The project's own list; empty: installationHosts apply.
  items: z.array(GitHostSchema),
  installationHosts: z.array(z.string()),
});
export type GitHostList = z.infer<typeof GitHostListSchema>;

// GIT_CREDENTIALS of the agent-runner: credentials of projects without their own list.
export const InstallationGitCredentialsSchema = z
  .array(GitCredentialSchema.extend({ host: GitHostNameSchema }).strict())
  .superRefine((entries, context) => refuseDuplicateHosts(entries, context, []));
export type InstallationGitCredential = z.infer<typeof InstallationGitCredentialsSchema>[number];

// The big public hosts, so that public repositories work out of the box while nothing on the
// installation's own network (internal git servers, metadata endpoints) is reachable by default.
export const DEFAULT_GIT_ALLOWED_HOSTS = 'github.com,gitlab.com,bitbucket.org';

// GIT_ALLOWED_HOSTS of the gateway and the agent-runner: comma-separated; empty: no remote host.
export const gitAllowedHostsSetting = () =>
  z
    .string()
    .default(DEFAULT_GIT_ALLOWED_HOSTS)
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim())
        .filter(Boolean),
    )
    .pipe(z.array(GitHostNameSchema))
    .describe('git hosts of projects that have no list of their own, comma-separated (host or host:port)');
