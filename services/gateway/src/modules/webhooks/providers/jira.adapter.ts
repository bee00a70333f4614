import { z } from 'zod';
import type { InboundEvent, ProviderAdapter } from '../inbound-event';
import { isHangarReply } from '../reply-text';
import { headerValue, isPlainObject, parseJsonObject, parseMention, readPayload } from './adapter-support';

const JiraPayloadSchema = z.object({
  issue: z
    .object({
      key: z.string(),
      fields: z
        .object({
          summary: z.string().nullish(),
          // Plain text (wiki markup) or, from newer sites, an Atlassian Document Format tree.
          description: z.unknown().optional(),
          labels: z.array(z.string()).nullish(),
        })
        .optional(),
    })
    .optional(),
  comment: z.object({ body: z.unknown() }).optional(),
  changelog: z
    .object({
      items: z.array(
        z.object({
          field: z.string(),
          fromString: z.string().nullish(),
          // Read leniently: when the key is absent, zod sees Object.prototype.toString.
          toString: z.unknown().transform((value) => (typeof value === 'string' ? value : undefined)),
        }),
      ),
    })
    .optional(),
});
type JiraPayload = z.output<typeof JiraPayloadSchema>;

type ChangeItem = NonNullable<JiraPayload['changelog']>['items'][number];

export const jiraAdapter: ProviderAdapter = {
  provider: 'jira',
  deliveryId: (headers) => headerValue(headers, 'x-atlassian-webhook-identifier'),
  eventName: (_headers, payload) =>
    typeof payload.webhookEvent === 'string' ? payload.webhookEvent : undefined,
  parseBody: (raw) => parseJsonObject(raw.toString('utf8'), 'the Jira delivery body'),
  normalize(eventName, payload, { prefix }): InboundEvent {
    const event = eventName ?? 'unknown';
    const fields = readPayload(JiraPayloadSchema, payload, `Jira ${event}`);
    const issue = fields.issue;
    const changes = event === 'jira:issue_updated' ? (fields.changelog?.items ?? []) : [];
    const status = changes.find((item) => item.field === 'status');
    return {
      provider: 'jira',
      event,
      mention: parseMention(mentionText(event, fields), prefix),
      fromHangar: isHangarReply(plainText(fields.comment?.body)),
      labelsAdded: labelsAdded(event, fields, changes),
      statusTo: status?.toString ?? undefined,
      threadKey: issue ? `jira:${issue.key}` : undefined,
      ref: issue ? { kind: 'jira-issue', issueKey: issue.key } : undefined,
      title: issue?.fields?.summary ?? undefined,
      payload,
    };
  },
};

// Only new text asks for something: an edited comment must not run the command again.
function mentionText(event: string, fields: JiraPayload): string | undefined {
  if (event === 'comment_created') return plainText(fields.comment?.body);
  if (event === 'jira:issue_created') return plainText(fields.issue?.fields?.description);
  return undefined;
}

function labelsAdded(event: string, fields: JiraPayload, changes: ChangeItem[]): string[] {
  // Jira sends no separate label event for an issue created with labels.
  if (event === 'jira:issue_created') return fields.issue?.fields?.labels ?? [];
  // A labels change lists the whole set before and after, space-separated.
  return changes
    .filter((item) => item.field === 'labels')
    .flatMap((item) => {
      const before = new Set(words(item.fromString));
      return words(item.toString).filter((label) => !before.has(label));
    });
}

function words(text: string | null | undefined): string[] {
  return (text ?? '').split(/\s+/).filter((word) => word.length > 0);
}

function plainText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  return isPlainObject(body) ? flattenDocument(body).trim() : undefined;
}

const BLOCK_NODES = new Set(['paragraph', 'heading', 'blockquote', 'codeBlock', 'listItem', 'rule', 'panel']);

// Text nodes in order; mention nodes keep their "@name" so a prefix typed as a mention counts.
function flattenDocument(node: Record<string, unknown>): string {
  const attrs = isPlainObject(node.attrs) ? node.attrs : {};
  if (node.type === 'text') return typeof node.text === 'string' ? node.text : '';
  if (node.type === 'mention') return typeof attrs.text === 'string' ? attrs.text : '';
  if (node.type === 'hardBreak') return '\n';
  const children = Array.isArray(node.content) ? node.content.filter(isPlainObject) : [];
  const inner = children.map(flattenDocument).join('');
  return typeof node.type === 'string' && BLOCK_NODES.has(node.type) ? `${inner}\n` : inner;
}
