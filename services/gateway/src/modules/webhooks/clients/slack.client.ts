import type { ProviderRef } from '@hangar/contracts';
import type { WebClient } from '@slack/web-api';
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import type { ProviderFailure } from './provider-client';

// Slack's clients (with their HTTP stack, ~1.2 MB of heap) load with the first Slack reply or
// reaction, not with the gateway: most installations never talk to Slack.
function webApi(): typeof import('@slack/web-api') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@slack/web-api') as typeof import('@slack/web-api');
}

function webhooks(): typeof import('@slack/webhook') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@slack/webhook') as typeof import('@slack/webhook');
}

export const SLACK_REF_KINDS = ['slack-message', 'slack-command'] as const;
export type SlackRef = Extract<ProviderRef, { kind: (typeof SLACK_REF_KINDS)[number] }>;
export type SlackMessageRef = Extract<ProviderRef, { kind: 'slack-message' }>;

// Slack's limit on a message's text: longer text is cut short or refused with msg_too_long.
export const SLACK_TEXT_LIMIT = 40_000;

const SLACK_API_URL = 'https://slack.com/api/';
// Where Slack's response_url always points.
const SLACK_RESPONSE_ORIGIN = 'https://hooks.slack.com';

export interface SlackClientSettings {
  // Not needed for a slash command's response_url.
  botToken?: string | undefined;
  // A proxy in front of Slack's Web API; Slack's own when absent.
  apiUrl?: string | null | undefined;
  // The guarded fetch every request goes through.
  fetch: typeof globalThis.fetch;
}

// Messages and reactions through Slack's official Web API client; slash commands answer on their response_url.
export class SlackClient {
  private web: WebClient | undefined;

  constructor(private readonly settings: SlackClientSettings) {}

  async reply(ref: SlackRef, text: string): Promise<void> {
    if (ref.kind === 'slack-command') {
      const webhook = new (webhooks().IncomingWebhook)(this.responseUrl(ref.responseUrl), {
        retryConfig: { retries: 0 },
        fetch: this.settings.fetch,
      });
      // response_url takes response_type, which @slack/webhook's argument type does not list.
      const message: IncomingWebhookSendArguments & { response_type: 'in_channel' } = {
        response_type: 'in_channel',
        text,
      };
      await webhook.send(message);
      return;
    }
    await this.client().chat.postMessage({ channel: ref.channel, thread_ts: ref.threadTs, text });
  }

  async react(ref: SlackMessageRef, name: string): Promise<void> {
    try {
      await this.client().reactions.add({ channel: ref.channel, timestamp: ref.ts, name });
    } catch (error) {
      // A redelivered event reacts again; the reaction being there already is what was asked.
      if (error instanceof webApi().WebAPIPlatformError && error.data.error === 'already_reacted') return;
      throw error;
    }
  }

  private client(): WebClient {
    const { LogLevel, WebClient: Client } = webApi();
    this.web ??= new Client(this.settings.botToken, {
      slackApiUrl: this.settings.apiUrl ?? SLACK_API_URL,
      fetch: this.settings.fetch,
      // The delivery worker owns retries: the default policy waits up to half an hour, and a 429 would
      // otherwise sleep out its Retry-After before failing.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      // Failures come back as ProviderClientError and are logged by the caller, with context.
      logLevel: LogLevel.ERROR,
    });
    return this.web;
  }

  // The URL comes from a delivery's payload: post only where Slack (or the configured proxy) lives.
  private responseUrl(url: string): string {
    const allowed = [SLACK_RESPONSE_ORIGIN];
    if (this.settings.apiUrl) allowed.push(new URL(this.settings.apiUrl).origin);
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      throw new Error('the slash command response_url is not a URL');
    }
    if (!allowed.includes(origin)) {
      throw new Error(`the slash command response_url is not on ${allowed.join(' or ')}`);
    }
    return url;
  }
}

// The Web API answers 200 with ok:false and an error code; HTTP errors and transport failures have their own classes.
export function describeSlackFailure(error: unknown): ProviderFailure {
  const { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } = webApi();
  const { IncomingWebhookHTTPError, IncomingWebhookRequestError } = webhooks();
  if (error instanceof WebAPIPlatformError) return { detail: error.data.error };
  if (error instanceof WebAPIHTTPError || error instanceof IncomingWebhookHTTPError) {
    const body: unknown = error.body;
    const detail = typeof body === 'string' && body.trim() !== '' ? body.trim() : error.statusMessage;
    return { status: error.statusCode, detail };
  }
  if (error instanceof WebAPIRateLimitedError) {
    return { status: 429, detail: `rate limited: retry after ${error.retryAfter} s` };
  }
  if (error instanceof WebAPIRequestError || error instanceof IncomingWebhookRequestError) {
    return { detail: describeCause(error.original) };
  }
  return { detail: error instanceof Error ? error.message : String(error) };
}

// fetch says only "fetch failed"; what went wrong (ECONNREFUSED …) is its cause.
function describeCause(error: Error): string {
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
