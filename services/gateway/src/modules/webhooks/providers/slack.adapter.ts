import { z } from 'zod';
import type { InboundEvent, ProviderAdapter } from '../inbound-event';
import { type Mention, mediaType, parseJsonObject, readPayload, splitWord } from './adapter-support';

const SlashCommandSchema = z.object({
  command: z.string(),
  text: z.string().optional(),
  response_url: z.string(),
  channel_id: z.string(),
});

const EventCallbackSchema = z.object({
  team_id: z.string().optional(),
  // The app's own users in this workspace: who a leading mention must name.
  authorizations: z.array(z.object({ user_id: z.string().optional() })).optional(),
  event: z.object({
    type: z.string(),
    text: z.string().optional(),
    channel: z.string().optional(),
    ts: z.string().optional(),
    thread_ts: z.string().optional(),
    bot_id: z.string().optional(),
    subtype: z.string().optional(),
  }),
});
type EventCallback = z.output<typeof EventCallbackSchema>;

// One or more `<@U…>` (or `<@U…|name>`) tokens at the start of a message.
const LEADING_MENTIONS = /^\s*(?:<@[^>\s]+>\s*)+/;
const ANY_MENTION = /<@[^>\s]+>/;

export const slackAdapter: ProviderAdapter = {
  provider: 'slack',
  // Events API deliveries have an event id; commands and interactions only a trigger id.
  deliveryId: (_headers, payload) => stringField(payload, 'event_id') ?? stringField(payload, 'trigger_id'),
  eventName(_headers, payload) {
    if (typeof payload.command === 'string') return 'slash_command';
    const type = stringField(payload, 'type');
    if (type === 'event_callback') {
      const event = payload.event;
      return typeof event === 'object' && event !== null && 'type' in event && typeof event.type === 'string'
        ? event.type
        : undefined;
    }
    return type;
  },
  parseBody(raw, contentType) {
    const text = raw.toString('utf8');
    if (mediaType(contentType) !== 'application/x-www-form-urlencoded') {
      return parseJsonObject(text, 'the Slack delivery body');
    }
    const form: Record<string, string> = Object.fromEntries(new URLSearchParams(text));
    // Interactive components post one form field holding the JSON.
    if (typeof form.payload === 'string') {
      return parseJsonObject(form.payload, 'the Slack payload form field');
    }
    return form;
  },
  normalize(eventName, payload): InboundEvent {
    const event = eventName ?? 'unknown';
    const base: InboundEvent = { provider: 'slack', event, labelsAdded: [], payload };
    if (event === 'slash_command') {
      const command = readPayload(SlashCommandSchema, payload, 'Slack slash command');
      return {
        ...base,
        slash: { command: command.command.replace(/^\//, ''), args: (command.text ?? '').trim() },
        ref: { kind: 'slack-command', responseUrl: command.response_url, channel: command.channel_id },
      };
    }
    if (payload.type !== 'event_callback') return base;
    const callback = readPayload(EventCallbackSchema, payload, `Slack ${event}`);
    const { channel, ts } = callback.event;
    const threadTs = callback.event.thread_ts ?? ts;
    const inChannel = channel !== undefined && ts !== undefined && threadTs !== undefined;
    return {
      ...base,
      mention: event === 'app_mention' || event === 'message' ? mentionOf(callback) : undefined,
      threadKey:
        inChannel && callback.team_id !== undefined
          ? `slack:${callback.team_id}/${channel}/${threadTs}`
          : undefined,
      ref: inChannel ? { kind: 'slack-message', channel, ts, threadTs } : undefined,
    };
  },
};

function mentionOf(callback: EventCallback): Mention | undefined {
  const { text, bot_id: botId, subtype, type } = callback.event;
  // The bot's own messages (and other bots') never ask it anything.
  if (botId !== undefined || subtype === 'bot_message' || text === undefined) return undefined;
  const leading = LEADING_MENTIONS.exec(text);
  if (type === 'app_mention') {
    if (leading) return splitWord(unescapeSlack(text.slice(leading[0].length)));
    // Named mid-sentence ("thanks! <@U…> fix this"): the ask is what follows the name, as with
    // a prefix anywhere in a GitHub comment.
    const named = ANY_MENTION.exec(text);
    return named ? splitWord(unescapeSlack(text.slice(named.index + named[0].length))) : undefined;
  }
  // A plain message asks only when it names the app up front.
  if (!leading) return undefined;
  const appUsers = (callback.authorizations ?? []).flatMap((entry) => (entry.user_id ? [entry.user_id] : []));
  const named = [...leading[0].matchAll(/<@([^>|\s]+)/g)].map((match) => match[1]);
  if (appUsers.length > 0 && !named.some((user) => user !== undefined && appUsers.includes(user))) {
    return undefined;
  }
  return splitWord(unescapeSlack(text.slice(leading[0].length)));
}

// Slack escapes these three in message text.
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function stringField(payload: Record<string, unknown>, key: string): string | undefined {
  const value = payload[key];
  return typeof value === 'string' ? value : undefined;
}
