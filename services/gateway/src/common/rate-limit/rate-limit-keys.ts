import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

export interface ClientAddressSource {
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

function normalizeAddress(address: string): string {
  // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; one client, one key.
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

// The address `trustedProxies` hops away from the socket, as Express' numeric `trust proxy` does:
// each proxy appends the address it saw to X-Forwarded-For, so only the rightmost entries were
// written by our proxies; anything further left is whatever the client chose to send.
export function clientIp(request: ClientAddressSource, trustedProxies: number): string {
  const socketAddress = normalizeAddress(request.socket.remoteAddress ?? 'unknown');
  if (trustedProxies <= 0) return socketAddress;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => normalizeAddress(entry.trim()))
    .filter(Boolean)
    .reverse();
  let address = socketAddress;
  for (const hop of forwarded.slice(0, trustedProxies)) {
    if (isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}

// Counted before the AuthGuard checks the token (a refused request still costs), keyed by its hash only.
export function bearerTokenHash(authorization: string | undefined): string | undefined {
  const token = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
  return token ? createHash('sha256').update(token).digest('hex') : undefined;
}
