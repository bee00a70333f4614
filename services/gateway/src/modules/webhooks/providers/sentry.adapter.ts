import { z } from 'zod';
import type { InboundEvent, ProviderAdapter } from '../inbound-event';
import { headerValue, parseJsonObject, readPayload, withAction } from './adapter-support';

// Sentry sends ids as strings; accept numbers too rather than fail on a format change.
const IdSchema = z.union([z.string(), z.number()]).transform(String);

const EventLikeSchema = z.object({
  issue_id: IdSchema.optional(),
  title: z.string().optional(),
});

const SentryPayloadSchema = z.object({
  action: z.string().optional(),
  data: z
    .object({
      // event_alert
      event: EventLikeSchema.optional(),
      // error
      error: EventLikeSchema.optional(),
      // issue
      issue: z.object({ id: IdSchema, title: z.string().optional() }).optional(),
      // metric_alert
      description_title: z.string().optional(),
    })
    .optional(),
});

export const sentryAdapter: ProviderAdapter = {
  provider: 'sentry',
  deliveryId: (headers) => headerValue(headers, 'request-id'),
  eventName: (headers) => headerValue(headers, 'sentry-hook-resource'),
  parseBody: (raw) => parseJsonObject(raw.toString('utf8'), 'the Sentry delivery body'),
  normalize(eventName, payload): InboundEvent {
    const name = eventName ?? 'unknown';
    const fields = readPayload(SentryPayloadSchema, payload, `Sentry ${name}`);
    const data = fields.data;
    const occurrence = data?.event ?? data?.error;
    const issueId = occurrence?.issue_id ?? data?.issue?.id;
    return {
      provider: 'sentry',
      event: withAction(name, fields.action),
      // Alerts address no one: an error message quoting the prefix must not start a task.
      mention: undefined,
      labelsAdded: [],
      threadKey: issueId === undefined ? undefined : `sentry:${issueId}`,
      ref: issueId === undefined ? undefined : { kind: 'sentry-issue', issueId },
      title: occurrence?.title ?? data?.issue?.title ?? data?.description_title,
      payload,
    };
  },
};
