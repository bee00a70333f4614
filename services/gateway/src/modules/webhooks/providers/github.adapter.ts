import type { ProviderRef } from '@hangar/contracts';
import { z } from 'zod';
import type { InboundEvent, ProviderAdapter } from '../inbound-event';
import { isHangarReply } from '../reply-text';
import { headerValue, parseJsonObject, parseMention, readPayload, withAction } from './adapter-support';

// The author of a comment, issue, pull request or review, and their relation to the repository.
const AuthoredSchema = z.object({
  user: z.object({ login: z.string() }).nullish(),
  author_association: z.string().optional(),
});
type Authored = z.output<typeof AuthoredSchema>;

const NumberedSchema = AuthoredSchema.extend({
  number: z.number().int(),
  title: z.string().optional(),
  body: z.string().nullish(),
});

// Only what the adapter reads; the rest of the payload passes through untouched.
const GithubPayloadSchema = z.object({
  action: z.string().optional(),
  repository: z
    .object({
      full_name: z.string(),
      name: z.string(),
      owner: z.object({ login: z.string() }),
      clone_url: z.string().optional(),
    })
    .optional(),
  issue: NumberedSchema.optional(),
  pull_request: NumberedSchema.optional(),
  comment: AuthoredSchema.extend({ id: z.number().int(), body: z.string().nullish() }).optional(),
  review: AuthoredSchema.optional(),
  label: z.object({ name: z.string() }).optional(),
});
type GithubPayload = z.output<typeof GithubPayloadSchema>;

export const githubAdapter: ProviderAdapter = {
  provider: 'github',
  deliveryId: (headers) => headerValue(headers, 'x-github-delivery'),
  eventName: (headers) => headerValue(headers, 'x-github-event'),
  parseBody: (raw) => parseJsonObject(raw.toString('utf8'), 'the GitHub delivery body'),
  normalize(eventName, payload, { prefix }): InboundEvent {
    const name = eventName ?? 'unknown';
    const fields = readPayload(GithubPayloadSchema, payload, `GitHub ${name}`);
    const event = withAction(name, fields.action);
    const repository = fields.repository;
    const number = fields.issue?.number ?? fields.pull_request?.number;
    return {
      provider: 'github',
      event,
      mention: parseMention(mentionText(event, fields), prefix),
      fromHangar: isHangarReply(fields.comment?.body),
      author: authorOf(event, fields),
      labelsAdded: event === 'issues.labeled' || event === 'pull_request.labeled' ? labelOf(fields) : [],
      threadKey: repository && number !== undefined ? `github:${repository.full_name}#${number}` : undefined,
      ref: refOf(name, fields),
      title: fields.issue?.title ?? fields.pull_request?.title,
      repository: repository?.clone_url,
      payload,
    };
  },
};

// Only new text asks for something: an edited or deleted comment must not run the command again.
function mentionText(event: string, fields: GithubPayload): string | null | undefined {
  switch (event) {
    case 'issue_comment.created':
    case 'pull_request_review_comment.created':
      return fields.comment?.body;
    case 'issues.opened':
      return fields.issue?.body;
    default:
      return undefined;
  }
}

// Whose words the event carries: anyone who can comment on a public repository can write a
// comment, open an issue or a pull request, or review one. Other events (labels, assignments,
// closing) are done by someone with a repository role and carry no author to check.
function authorOf(event: string, fields: GithubPayload): InboundEvent['author'] {
  const [name, action = ''] = event.split('.');
  const written = ['created', 'opened', 'edited', 'reopened', 'submitted', 'synchronize'].includes(action);
  let item: Authored | undefined;
  if (name === 'issue_comment' || name === 'pull_request_review_comment' || name === 'commit_comment')
    item = fields.comment;
  else if (name === 'pull_request_review') item = fields.review;
  else if (name === 'issues' && written) item = fields.issue;
  else if (name === 'pull_request' && written) item = fields.pull_request;
  if (!item) return undefined;
  // An author GitHub says nothing about is nobody in particular.
  return { login: item.user?.login, association: item.author_association ?? 'NONE' };
}

function labelOf(fields: GithubPayload): string[] {
  return fields.label ? [fields.label.name] : [];
}

function refOf(name: string, fields: GithubPayload): ProviderRef | undefined {
  const repository = fields.repository;
  if (!repository) return undefined;
  const place = { owner: repository.owner.login, repo: repository.name };
  if (name === 'pull_request_review_comment' && fields.pull_request && fields.comment) {
    return {
      kind: 'github-review-comment',
      ...place,
      pullNumber: fields.pull_request.number,
      commentId: fields.comment.id,
    };
  }
  // Issues and pull requests share the issue API (comments, reactions, labels).
  const issueNumber = fields.issue?.number ?? fields.pull_request?.number;
  if (issueNumber === undefined) return undefined;
  const commentId = name === 'issue_comment' ? fields.comment?.id : undefined;
  return {
    kind: 'github-issue',
    ...place,
    issueNumber,
    ...(commentId === undefined ? {} : { commentId }),
  };
}
