import type { ProviderRef } from '@hangar/contracts';
import type { createCloudClient } from 'jira.js';
import type { ProviderFailure } from './provider-client';

export const JIRA_REF_KINDS = ['jira-issue'] as const;
export type JiraRef = Extract<ProviderRef, { kind: 'jira-issue' }>;

// Jira refuses a comment longer than this (its default text field limit).
export const JIRA_COMMENT_LIMIT = 32_767;

// jira.js puts the key into the path unencoded: anything else could address another resource.
const ISSUE_KEY = /^(?:[A-Za-z][A-Za-z0-9_]*-\d+|\d+)$/;

type JiraCloud = ReturnType<typeof createCloudClient>;

export interface JiraClientSettings {
  // The site, https://<your-domain>.atlassian.net: jira.js adds the /rest/api/3 paths itself.
  site: string;
  email: string;
  apiToken: string;
}

interface AdfNode {
  type: string;
  text?: string;
  content?: AdfNode[];
}

// Comments and labels through jira.js, the Jira Cloud REST (v3) client.
export class JiraClient {
  private jira: Promise<JiraCloud> | undefined;

  constructor(private readonly settings: JiraClientSettings) {}

  async reply(ref: JiraRef, text: string): Promise<void> {
    const jira = await this.client();
    // A document, not a string: jira.js would send a string as wiki markup through the v2 API.
    await jira.issueComments.addComment({ issueIdOrKey: issueKey(ref), body: toAdfDocument(text) });
  }

  async label(ref: JiraRef, label: string): Promise<void> {
    const jira = await this.client();
    // `update … add` keeps the labels the issue already has; `fields.labels` would replace them.
    await jira.issues.editIssue({ issueIdOrKey: issueKey(ref), update: { labels: [{ add: label }] } });
  }

  private client(): Promise<JiraCloud> {
    this.jira ??= createJiraCloud(this.settings);
    return this.jira;
  }
}

async function createJiraCloud({ site, email, apiToken }: JiraClientSettings): Promise<JiraCloud> {
  // jira.js is ESM-only: a top-level import would compile to require() and break Jest, which runs CJS.
  const { createCloudClient: createCloud } = await import('jira.js');
  return createCloud({
    host: site,
    auth: { type: 'basic', email, apiToken },
    // Nothing is read from the answers, so a drifting response schema is no reason to write to stderr.
    onSchemaMismatch: 'silent',
  });
}

function issueKey(ref: JiraRef): string {
  if (!ISSUE_KEY.test(ref.issueKey)) throw new Error(`"${ref.issueKey}" is not a Jira issue key or id`);
  return ref.issueKey;
}

// Blank lines separate paragraphs; a single newline is a hard break inside one. ADF forbids empty text nodes.
export function toAdfDocument(text: string): { type: 'doc'; version: 1; content: AdfNode[] } {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n(?:[ \t]*\n)+/)
    .filter((paragraph) => paragraph.trim() !== '')
    .map((paragraph): AdfNode => {
      const content = paragraph
        .replace(/^\n+|\n+$/g, '')
        .split('\n')
        .flatMap((line, index): AdfNode[] => [
          ...(index > 0 ? [{ type: 'hardBreak' }] : []),
          ...(line === '' ? [] : [{ type: 'text', text: line }]),
        ]);
      return { type: 'paragraph', content };
    });
  return { type: 'doc', version: 1, content: paragraphs };
}

// jira.js: ApiError carries the status and Jira's parsed body (errorMessages, errors); a bad site or email fails
// its config schema (a ZodError) before any request.
export function describeJiraFailure(error: unknown): ProviderFailure {
  if (!(error instanceof Error)) return { detail: String(error) };
  if ('status' in error && typeof error.status === 'number' && 'body' in error) {
    const statusText = 'statusText' in error && typeof error.statusText === 'string' ? error.statusText : '';
    return { status: error.status, detail: jiraMessages(error.body) ?? (statusText || error.message) };
  }
  if ('issues' in error && Array.isArray(error.issues)) {
    const problems = error.issues.map((issue: { path?: unknown[]; message?: string }) => {
      const path = (issue.path ?? []).join('.');
      return `${CONFIG_PATHS[path] ?? path}: ${issue.message ?? 'invalid'}`;
    });
    return { detail: `the Jira settings are invalid (${problems.join('; ')})` };
  }
  // NetworkError's message already names the URL, the reason and the code.
  return { detail: error.message };
}

// Where the jira.js config fields come from in a webhook's settings.
const CONFIG_PATHS: Record<string, string> = {
  host: 'apiUrl',
  'auth.email': 'credentials.email',
  'auth.apiToken': 'credentials.apiToken',
};

function jiraMessages(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() === '' ? undefined : body.trim();
  if (typeof body !== 'object' || body === null) return undefined;
  const { errorMessages, errors } = body as { errorMessages?: unknown; errors?: unknown };
  const messages = Array.isArray(errorMessages) ? errorMessages.map(String) : [];
  if (typeof errors === 'object' && errors !== null) {
    for (const [field, message] of Object.entries(errors)) messages.push(`${field}: ${String(message)}`);
  }
  return messages.length > 0 ? messages.join('; ') : undefined;
}
