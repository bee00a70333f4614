import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  checkDestination,
  fetchThrough,
  guardedDispatcher,
  normalizeHost,
  type AllowedHost,
} from '@hangar/egress';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../../config';

// How the provider clients reach out: every connection goes to an address checked when it is made
// (@hangar/egress), so an apiUrl can never make the gateway post a token to 127.0.0.1, the cloud
// metadata endpoint or anything else inside, not even by resolving differently later.
export interface ProviderEgress {
  allowHosts: readonly AllowedHost[];
  fetch: typeof globalThis.fetch;
}

// The dispatcher (and undici with it) is made with the first request to a provider: a gateway
// that never replies to one does not carry it.
@Injectable()
export class WebhookEgress implements ProviderEgress, OnApplicationShutdown {
  readonly allowHosts: readonly AllowedHost[];
  private dispatcher: ReturnType<typeof guardedDispatcher> | undefined;
  private guardedFetch: typeof globalThis.fetch | undefined;
  readonly fetch: typeof globalThis.fetch = (input, init) => {
    this.dispatcher ??= guardedDispatcher({ allowHosts: this.allowHosts });
    this.guardedFetch ??= fetchThrough(this.dispatcher);
    return this.guardedFetch(input, init);
  };

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    // The static receivers' URLs are the installation's own settings, as trusted as the list.
    const ownUrls = [config.GITHUB_API_URL, config.SLACK_API_URL, config.JIRA_BASE_URL].filter(
      (url): url is string => url !== undefined,
    );
    this.allowHosts = [...config.WEBHOOK_API_ALLOWED_HOSTS, ...ownUrls.map(hostOf)];
  }

  async onApplicationShutdown() {
    await this.dispatcher?.close();
  }
}

function hostOf(url: string): AllowedHost {
  const parsed = new URL(url);
  return { host: normalizeHost(parsed.hostname), port: portOf(parsed) };
}

function portOf(url: URL): number {
  return Number(url.port) || (url.protocol === 'http:' ? 80 : 443);
}

// Why the gateway will not send credentials to this API URL, or undefined when it will: only
// http(s), no credentials in the URL, plain http only to an allowed host, and an address outside.
export async function refusalOf(
  apiUrl: string,
  allowHosts: readonly AllowedHost[],
): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${url.protocol} is not http(s)`;
  if (url.username !== '' || url.password !== '') return 'it holds credentials: give them as credentials';
  const port = portOf(url);
  const destination = await checkDestination(url.hostname, port, { allowHosts });
  if (!destination.ok) {
    return destination.refusal === 'unresolved'
      ? destination.reason
      : `${destination.reason} (if it is your own server, the installation can list it in WEBHOOK_API_ALLOWED_HOSTS)`;
  }
  if (url.protocol === 'http:' && !destination.allowed) {
    return 'it is plain http: use https (http only for hosts in WEBHOOK_API_ALLOWED_HOSTS)';
  }
  return undefined;
}

// jira.js calls the global fetch and takes neither a fetch nor a dispatcher: inside a provider
// operation the global fetch is the guarded one; everywhere else it is left as it was.
const scopedFetch = new AsyncLocalStorage<typeof globalThis.fetch>();
let globalFetchScoped = false;

export function withGuardedFetch<T>(egress: ProviderEgress, body: () => Promise<T>): Promise<T> {
  if (!globalFetchScoped) {
    const original = globalThis.fetch;
    globalThis.fetch = (input, init) => (scopedFetch.getStore() ?? original)(input, init);
    globalFetchScoped = true;
  }
  return scopedFetch.run(egress.fetch, body);
}
