import type { ProviderRef, WebhookProvider } from '@hangar/contracts';

// A verified delivery as the command matcher sees it, whatever the provider. Each provider's
// adapter (providers/*.adapter.ts) turns its payload into one.
export interface InboundEvent {
  provider: WebhookProvider;
  // The provider's event, with its action when it has one: `issue_comment.created`,
  // `issues.labeled`, `pull_request_review_comment.created`, `slash_command`, `app_mention`,
  // `message`, `jira:issue_updated`, `comment_created`, `event_alert.triggered`, `issue.created`.
  event: string;
  // Text addressed to Hangar, when the event carries one that starts with (or, for a Slack app
  // mention, is) the configuration's prefix: the first word after it and the rest.
  mention?: { word: string; args: string } | undefined;
  // A Slack slash command: its name without the slash, and its text.
  slash?: { command: string; args: string } | undefined;
  // The comment is one of Hangar's own answers (reply-text.ts): it asks for nothing.
  fromHangar?: boolean | undefined;
  // Who wrote what the event carries (a comment, an issue, a pull request, a review) and their
  // relation to the repository (GitHub's author_association), when the provider says so.
  author?: { login?: string | undefined; association: string } | undefined;
  // Labels this event added.
  labelsAdded: string[];
  // The status an issue moved into (a Jira transition).
  statusTo?: string | undefined;
  // Follow-ups on the same thread continue the same conversation:
  // github:<owner>/<repo>#<number>, slack:<team>/<channel>/<thread ts>, jira:<issue key>,
  // sentry:<issue id>. Undefined: every event starts afresh (a slash command).
  threadKey?: string | undefined;
  // Where the answer goes and what a reaction or label applies to.
  ref?: ProviderRef | undefined;
  // A short title for the conversation (the title, the alert's).
  title?: string | undefined;
  // The repository the event is about, as a clone URL, when the payload names one.
  repository?: string | undefined;
  // What templates and conditions see: the payload's own fields, plus `hangar`
  // ({event, command, args, text, deliveryId}) filled in by the matcher.
  payload: Record<string, unknown>;
}

export interface ProviderAdapter {
  provider: WebhookProvider;
  // The provider's id for this delivery (its retries carry the same one), or undefined.
  deliveryId(
    headers: Record<string, string | string[] | undefined>,
    payload: Record<string, unknown>,
  ): string | undefined;
  // The event name as the provider states it (a header or a payload field).
  eventName(
    headers: Record<string, string | string[] | undefined>,
    payload: Record<string, unknown>,
  ): string | undefined;
  // Reads the body (JSON, or a form for Slack slash commands); throws on a malformed one.
  parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown>;
  normalize(
    eventName: string | undefined,
    payload: Record<string, unknown>,
    options: { prefix: string },
  ): InboundEvent;
}
