import {
  assertUnreachable,
  type ProviderRef,
  type WebhookCredentials,
  type WebhookProvider,
} from '@hangar/contracts';
import {
  GITHUB_COMMENT_LIMIT,
  GITHUB_REACTIONS,
  GITHUB_REF_KINDS,
  GithubClient,
  describeGithubFailure,
} from './github.client';
import { EgressRefusedError } from '@hangar/egress';
import { JIRA_COMMENT_LIMIT, JIRA_REF_KINDS, JiraClient, describeJiraFailure } from './jira.client';
import { refusalOf, withGuardedFetch, type ProviderEgress } from './provider-egress';
import { SLACK_REF_KINDS, SLACK_TEXT_LIMIT, SlackClient, describeSlackFailure } from './slack.client';

export interface ProviderClient {
  // Posts `text` (Markdown for GitHub; mrkdwn for Slack; plain for Jira) where `ref` says.
  reply(ref: ProviderRef, text: string): Promise<void>;
  // Adds a reaction (GitHub: +1, -1, laugh, confused, heart, hooray, rocket, eyes; Slack: an emoji name) to what
  // `ref` points at: the comment when ref has a commentId, else the issue; the Slack message.
  react(ref: ProviderRef, reaction: string): Promise<void>;
  // Adds a label to the issue / pull request / Jira issue.
  label(ref: ProviderRef, label: string): Promise<void>;
}

export interface ProviderClientSettings {
  provider: WebhookProvider;
  // token (GitHub), botToken (Slack), email+apiToken (Jira)
  credentials: WebhookCredentials;
  // GitHub API base (default https://api.github.com), Slack API base (default https://slack.com/api/), Jira site
  // (required for Jira)
  apiUrl?: string | null;
  // Where connections may go, and the fetch that holds to it.
  egress: ProviderEgress;
}

export type ProviderOperation = keyof ProviderClient;

// What a client makes of its library's error; the message is built here, once, with credentials scrubbed.
export interface ProviderFailure {
  status?: number | undefined;
  detail: string;
}

// Carries no cause: library errors hold request headers and bodies, and this one ends up in logs and deliveries.
export class ProviderClientError extends Error {
  override readonly name = 'ProviderClientError';

  constructor(
    readonly provider: WebhookProvider,
    readonly operation: ProviderOperation,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const MIN_SCRUBBED_SECRET = 8;

const PROVIDER_NAMES: Record<WebhookProvider, string> = {
  github: 'GitHub',
  slack: 'Slack',
  jira: 'Jira',
  sentry: 'Sentry',
};

const REF_PROVIDERS: Record<ProviderRef['kind'], WebhookProvider> = {
  'github-issue': 'github',
  'github-review-comment': 'github',
  'slack-command': 'slack',
  'slack-message': 'slack',
  'jira-issue': 'jira',
  'sentry-issue': 'sentry',
};

// The ends of every operation are the same whatever the provider: refuse what cannot work before any request,
// and turn whatever the library throws into one ProviderClientError.
export function createProviderClient(settings: ProviderClientSettings): ProviderClient {
  const { provider } = settings;
  // Real tokens are long; scrubbing a short test value would mangle every message that has its letters.
  const secrets = [
    settings.credentials.token,
    settings.credentials.botToken,
    settings.credentials.apiToken,
  ].filter((secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SCRUBBED_SECRET);
  const operations = providerOperations(settings);
  // Said before any request, in words; the guarded connection holds even if the name resolves
  // elsewhere by the time the library connects.
  const checkApiUrl = async (operation: ProviderOperation) => {
    if (!settings.apiUrl) return;
    const refusal = await refusalOf(settings.apiUrl, settings.egress.allowHosts);
    if (refusal) throw unusable(provider, operation, `apiUrl ${settings.apiUrl} is refused: ${refusal}`);
  };
  const run =
    <Args extends unknown[]>(operation: ProviderOperation, body: (...args: Args) => Promise<void>) =>
    async (...args: Args): Promise<void> => {
      try {
        await withGuardedFetch(settings.egress, async () => {
          await checkApiUrl(operation);
          await body(...args);
        });
      } catch (error) {
        throw toProviderClientError(provider, operation, error, operations.describe, secrets);
      }
    };
  return {
    reply: run('reply', async (ref: ProviderRef, text: string) => {
      if (text.trim() === '') {
        throw unusable(provider, 'reply', 'there is nothing to post: the text is empty');
      }
      await operations.reply(ref, text);
    }),
    react: run('react', async (ref: ProviderRef, reaction: string) => {
      await operations.react(ref, reaction);
    }),
    label: run('label', async (ref: ProviderRef, label: string) => {
      if (label.trim() === '') throw unusable(provider, 'label', 'the label is empty');
      await operations.label(ref, label);
    }),
  };
}

interface ProviderOperations {
  reply: (ref: ProviderRef, text: string) => Promise<void>;
  react: (ref: ProviderRef, reaction: string) => Promise<void>;
  label: (ref: ProviderRef, label: string) => Promise<void>;
  describe: (error: unknown) => ProviderFailure;
}

function providerOperations(settings: ProviderClientSettings): ProviderOperations {
  switch (settings.provider) {
    case 'github':
      return githubOperations(settings);
    case 'slack':
      return slackOperations(settings);
    case 'jira':
      return jiraOperations(settings);
    case 'sentry':
      return sentryOperations();
    default:
      return assertUnreachable(settings.provider);
  }
}

function githubOperations({ credentials, apiUrl, egress }: ProviderClientSettings): ProviderOperations {
  let client: GithubClient | undefined;
  const connect = (operation: ProviderOperation): GithubClient => {
    if (!credentials.token) {
      throw unusable(
        'github',
        operation,
        'set credentials.token to a GitHub token that may comment, react and label',
      );
    }
    client ??= new GithubClient({ token: credentials.token, apiUrl, fetch: egress.fetch });
    return client;
  };
  return {
    reply: async (ref, text) => {
      const target = refOf('github', 'reply', ref, GITHUB_REF_KINDS);
      await connect('reply').reply(target, truncate(text, GITHUB_COMMENT_LIMIT, githubTruncationNote));
    },
    react: async (ref, reaction) => {
      const target = refOf('github', 'react', ref, GITHUB_REF_KINDS);
      const content = GITHUB_REACTIONS.find((known) => known === reaction);
      if (!content) {
        throw unusable(
          'github',
          'react',
          `"${reaction}" is not a GitHub reaction: use ${GITHUB_REACTIONS.join(', ')}`,
        );
      }
      await connect('react').react(target, content);
    },
    label: async (ref, label) => {
      const target = refOf('github', 'label', ref, GITHUB_REF_KINDS);
      await connect('label').label(target, label);
    },
    describe: describeGithubFailure,
  };
}

function slackOperations({ credentials, apiUrl, egress }: ProviderClientSettings): ProviderOperations {
  // A slash command's response_url needs no token, so the client exists without one.
  const client = new SlackClient({ botToken: credentials.botToken, apiUrl, fetch: egress.fetch });
  const needsBotToken = (operation: ProviderOperation, kind: ProviderRef['kind']) => {
    if (kind === 'slack-message' && !credentials.botToken) {
      throw unusable(
        'slack',
        operation,
        'set credentials.botToken to a Slack bot token (xoxb-…) with chat:write',
      );
    }
  };
  return {
    reply: async (ref, text) => {
      const target = refOf('slack', 'reply', ref, SLACK_REF_KINDS);
      needsBotToken('reply', target.kind);
      await client.reply(target, truncate(text, SLACK_TEXT_LIMIT, slackTruncationNote));
    },
    react: async (ref, reaction) => {
      const target = refOf('slack', 'react', ref, SLACK_REF_KINDS);
      if (target.kind === 'slack-command') {
        throw unsupported('slack', 'react', 'a slash command leaves no message to react to');
      }
      // Slack's API takes the bare name; people write :eyes:.
      const name = reaction.replace(/^:+|:+$/g, '');
      if (name === '') throw unusable('slack', 'react', 'the emoji name is empty');
      needsBotToken('react', target.kind);
      await client.react(target, name);
    },
    label: async (ref) => {
      refOf('slack', 'label', ref, SLACK_REF_KINDS);
      throw unsupported('slack', 'label', 'Slack messages have no labels');
    },
    describe: describeSlackFailure,
  };
}

function jiraOperations({ credentials, apiUrl }: ProviderClientSettings): ProviderOperations {
  let client: JiraClient | undefined;
  const connect = (operation: ProviderOperation): JiraClient => {
    if (!apiUrl) {
      throw unusable('jira', operation, 'set apiUrl to the Jira site (https://<your-domain>.atlassian.net)');
    }
    if (!credentials.email || !credentials.apiToken) {
      throw unusable(
        'jira',
        operation,
        'set credentials.email and credentials.apiToken to a Jira account and its API token',
      );
    }
    client ??= new JiraClient({ site: apiUrl, email: credentials.email, apiToken: credentials.apiToken });
    return client;
  };
  return {
    reply: async (ref, text) => {
      const target = refOf('jira', 'reply', ref, JIRA_REF_KINDS);
      await connect('reply').reply(target, truncate(text, JIRA_COMMENT_LIMIT, jiraTruncationNote));
    },
    react: async (ref) => {
      refOf('jira', 'react', ref, JIRA_REF_KINDS);
      throw unsupported('jira', 'react', 'Jira issues take no reactions');
    },
    label: async (ref, label) => {
      const target = refOf('jira', 'label', ref, JIRA_REF_KINDS);
      await connect('label').label(target, label);
    },
    describe: describeJiraFailure,
  };
}

function sentryOperations(): ProviderOperations {
  const refuse = (operation: ProviderOperation) => async () => {
    throw unsupported('sentry', operation, 'Hangar does not answer on Sentry');
  };
  return {
    reply: refuse('reply'),
    react: refuse('react'),
    label: refuse('label'),
    describe: (error) => ({ detail: error instanceof Error ? error.message : String(error) }),
  };
}

// A ref from another provider's delivery is a wiring bug: say which, rather than send it anywhere.
function refOf<Kind extends ProviderRef['kind']>(
  provider: WebhookProvider,
  operation: ProviderOperation,
  ref: ProviderRef,
  kinds: readonly Kind[],
): Extract<ProviderRef, { kind: Kind }> {
  if (isKind(ref, kinds)) return ref;
  const owner = REF_PROVIDERS[ref.kind];
  throw unusable(
    provider,
    operation,
    `a ${ref.kind} ref belongs to ${PROVIDER_NAMES[owner]}: use a ${owner} webhook's client`,
  );
}

function isKind<Kind extends ProviderRef['kind']>(
  ref: ProviderRef,
  kinds: readonly Kind[],
): ref is Extract<ProviderRef, { kind: Kind }> {
  return (kinds as readonly string[]).includes(ref.kind);
}

function unsupported(
  provider: WebhookProvider,
  operation: ProviderOperation,
  why: string,
): ProviderClientError {
  return new ProviderClientError(
    provider,
    operation,
    `${PROVIDER_NAMES[provider]} ${operation} is not supported: ${why}`,
  );
}

function unusable(
  provider: WebhookProvider,
  operation: ProviderOperation,
  what: string,
): ProviderClientError {
  return new ProviderClientError(
    provider,
    operation,
    `${PROVIDER_NAMES[provider]} ${operation} cannot run: ${what}`,
  );
}

function toProviderClientError(
  provider: WebhookProvider,
  operation: ProviderOperation,
  error: unknown,
  describe: (error: unknown) => ProviderFailure,
  secrets: string[],
): ProviderClientError {
  if (error instanceof ProviderClientError) return error;
  const refused = egressRefusal(error);
  const { status, detail } = refused ? { status: undefined, detail: refused.message } : describe(error);
  // The libraries keep tokens out of their messages; this holds even if one ever echoes a request.
  const scrubbed = secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), detail);
  const http = status === undefined ? '' : ` with HTTP ${status}`;
  return new ProviderClientError(
    provider,
    operation,
    `${PROVIDER_NAMES[provider]} ${operation} failed${http}: ${scrubbed}`,
    status,
  );
}

// A connection the egress guard refused, however deep the library wrapped it ("fetch failed").
function egressRefusal(error: unknown): EgressRefusedError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current instanceof EgressRefusedError) return current;
    current = current.cause;
  }
  return undefined;
}

// Cuts a reply to the provider's limit and says so where the reader sees it; never splits a surrogate pair.
function truncate(text: string, limit: number, note: (length: number, limit: number) => string): string {
  if (text.length <= limit) return text;
  const suffix = note(text.length, limit);
  let keep = limit - suffix.length;
  const last = text.charCodeAt(keep - 1);
  if (last >= 0xd800 && last <= 0xdbff) keep -= 1;
  return text.slice(0, keep) + suffix;
}

const githubTruncationNote = (length: number, limit: number) =>
  `\n\n---\n_Truncated: the reply was ${length} characters and a GitHub comment holds ${limit}._`;
const slackTruncationNote = (length: number, limit: number) =>
  `\n\n_Truncated: the reply was ${length} characters and a Slack message holds ${limit}._`;
const jiraTruncationNote = (length: number, limit: number) =>
  `\n\n[Truncated: the reply was ${length} characters and a Jira comment holds ${limit}.]`;
