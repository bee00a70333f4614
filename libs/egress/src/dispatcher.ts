import { isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { classifyAddress } from './address';
import { isAllowedHost } from './allowed-hosts';
import { EgressRefusedError, describeRefusal, guardedLookup, type EgressPolicy } from './destination';

// An undici dispatcher whose every connection goes to a checked address: names through
// guardedLookup (so DNS rebinding between a check and the connection changes nothing), address
// literals — which never reach a lookup — checked here. Redirects connect through it too.
export function guardedDispatcher(policy: EgressPolicy = {}, options: Agent.Options = {}): Agent {
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
    undiciFetch(input, { ...init, dispatcher });
  // undici's Request/Response are the ones node's global fetch is built on; only their types differ.
  return guardedFetch as unknown as typeof globalThis.fetch;
}
