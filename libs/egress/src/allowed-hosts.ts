import { canonicalAddress, parseAddress } from './address';

// An installation's exception to the address rules: its own GitHub Enterprise or Jira on a
// private address. Without a port, every port of the host.
export interface AllowedHost {
  host: string;
  port?: number | undefined;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

// Hostnames compare case-insensitively and without a final dot; addresses in their canonical form,
// so 127.0.0.1, 2130706433 and ::ffff:127.0.0.1 are not three hosts.
export function normalizeHost(host: string): string {
  return canonicalAddress(host) ?? host.toLowerCase().replace(/\.$/, '');
}

// `host`, `host:port`, `[ipv6]` or `[ipv6]:port`; throws saying what is wrong with the entry.
export function parseAllowedHost(entry: string): AllowedHost {
  const text = entry.trim();
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const withPort = /^([^:]+):(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (withPort) {
    host = withPort[1] ?? '';
    port = Number(withPort[2]);
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
    throw new Error(`"${entry}": the port must be 1 to 65535`);
  }
  if (!parseAddress(host) && !HOSTNAME.test(host.toLowerCase().replace(/\.$/, ''))) {
    throw new Error(`"${entry}" is not a host, host:port, [ipv6] or [ipv6]:port`);
  }
  return { host: normalizeHost(host), ...(port === undefined ? {} : { port }) };
}

// A comma- or space-separated list, as a setting holds it.
export function parseAllowedHosts(list: string): AllowedHost[] {
  return list
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(parseAllowedHost);
}

export function isAllowedHost(host: string, port: number, allowHosts: readonly AllowedHost[]): boolean {
  const normalized = normalizeHost(host);
  return allowHosts.some((allowed) => allowed.host === normalized && (allowed.port ?? port) === port);
}
