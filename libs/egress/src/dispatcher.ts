import { isIP } from 'node:net';
import type { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { classifyAddress } from './address';
import { isAllowedHost } from './allowed-hosts';
import { EgressRefusedError, describeRefusal, guardedLookup, type EgressPolicy } from './destination';

// An undici dispatcher whose every connection goes to a checked address: names through
// guardedLookup (so DNS rebinding between a check and the connection changes nothing), address
// literals — which never reach a lookup — checked here. Redirects connect through it too.
export function guardedDispatcher(policy: EgressPolicy = {}, options: Agent.Options = {}): Agent {
  const { Agent, buildConnector } = undici();
  const allowHosts = policy.allowHosts ?? [];
  const direct = buildConnector({});
  const guarded = buildConnector({ lookup: guardedLookup({ ...policy, allowHosts: [] }) });
  const connect: buildConnector.connector = (target, callback) => {
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    if (isAllowedHost(target.hostname, port, allowHosts)) return direct(target, callback);
    if (isIP(target.hostname) !== 0) {
      const verdict = classifyAddress(target.hostname);
      if (verdict !== 'public') {
        callback(
          new EgressRefusedError(
            target.hostname,
            verdict,
            `refused: ${target.hostname} is ${describeRefusal(verdict)}`,
          ),
          null,
        );
        return;
      }
    }
    return guarded(target, callback);
  };
  return new Agent({ ...options, connect });
}

// fetch through a guarded dispatcher, for clients that take a fetch function (octokit, Slack's).
export function fetchThrough(dispatcher: Agent): typeof globalThis.fetch {
  const guardedFetch = (input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undici().fetch(input, { ...init, dispatcher });
  // undici's Request/Response are the ones node's global fetch is built on; only their types differ.
  return guardedFetch as unknown as typeof globalThis.fetch;
}

// undici (110 modules, ~5 MB of heap) loads with the first dispatcher, not with this library: the
// services that import @hangar/egress for its checks alone never load it.
function undici(): typeof import('undici') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('undici') as typeof import('undici');
}
