import type { WebhookProvider } from '@hangar/contracts';
import type { ProviderAdapter } from '../inbound-event';
import { githubAdapter } from './github.adapter';
import { jiraAdapter } from './jira.adapter';
import { sentryAdapter } from './sentry.adapter';
import { slackAdapter } from './slack.adapter';

// The mention rule is shared by the adapters, so it lives in adapter-support.ts (which they
// import without a cycle); callers that match text themselves find it here too.
export { parseMention } from './adapter-support';

export const PROVIDER_ADAPTERS: Record<WebhookProvider, ProviderAdapter> = {
  github: githubAdapter,
  slack: slackAdapter,
  jira: jiraAdapter,
  sentry: sentryAdapter,
};

export function adapterFor(provider: WebhookProvider): ProviderAdapter {
  return PROVIDER_ADAPTERS[provider];
}
