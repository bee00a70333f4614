import {
  lookup as dnsLookup,
  type LookupAddress,
  type LookupAllOptions,
  type LookupOneOptions,
} from 'node:dns';
import type { LookupFunction } from 'node:net';
import { classifyAddress, parseAddress, type AddressRefusal } from './address';
import { isAllowedHost, type AllowedHost } from './allowed-hosts';

// Every address a name resolves to, as getaddrinfo gives them.
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export interface EgressPolicy {
  // Hosts (and host:ports) reached whatever they resolve to.
  allowHosts?: readonly AllowedHost[] | undefined;
  // How names are resolved; the system resolver unless a test stands in for DNS.
  resolve?: Resolve | undefined;
}

export type Destination =
  | {
      ok: true;
      host: string;
      port: number;
      // The one to connect to, and every one the name has (each checked unless the host is allowed).
      address: string;
      family: 4 | 6;
      addresses: LookupAddress[];
      allowed: boolean;
    }
  | { ok: false; host: string; port: number; reason: string; refusal: AddressRefusal | 'unresolved' };

// What a connection refused by the guard fails with; `code` as node's own network errors have one.
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = 'EGRESS_REFUSED';

  constructor(
    readonly host: string,
    readonly refusal: AddressRefusal | 'unresolved',
    message: string,
  ) {
    super(message);
  }
}

export const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

// Where a connection to host:port would go, checked: the address it resolves to when every
// address it resolves to is public (or the host is allowed), else why not. The caller that
// connects should connect to `address`, or through guardedLookup, never resolve again itself.
export async function checkDestination(
  host: string,
  port: number,
  policy: EgressPolicy = {},
): Promise<Destination> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const allowed = isAllowedHost(bare, port, policy.allowHosts ?? []);
  const literal = parseAddress(bare);
  let addresses: LookupAddress[];
  if (literal) {
    addresses = [{ address: literal.toString(), family: literal.kind() === 'ipv4' ? 4 : 6 }];
  } else {
    try {
      addresses = await (policy.resolve ?? systemResolve)(bare);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      return {
        ok: false,
        host: bare,
        port,
        refusal: 'unresolved',
        reason: `${bare} does not resolve (${code})`,
      };
    }
  }
  const first = addresses[0];
  if (!first) {
    return { ok: false, host: bare, port, refusal: 'unresolved', reason: `${bare} resolves to no address` };
  }
  if (!allowed) {
    // One bad address refuses the host: a name that also points inside is not trusted to be outside.
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (verdict !== 'public') {
        const via = literal ? `${bare} is` : `${bare} resolves to ${address}, which is`;
        return {
          ok: false,
          host: bare,
          port,
          refusal: verdict,
          reason: `${via} ${describeRefusal(verdict)}`,
        };
      }
    }
  }
  return {
    ok: true,
    host: bare,
    port,
    address: first.address,
    family: first.family === 6 ? 6 : 4,
    addresses,
    allowed,
  };
}

// A `lookup` for net/tls/http(s) agents and undici's connector: resolves as node would, and fails
// the connection unless every address is public or the host is allowed — at connect time, so a
// name that resolved to a public address when checked and to 127.0.0.1 now (DNS rebinding) is
// still refused. Node never calls lookup for an address literal: check those with checkDestination.
// With `port`, host:port entries of the allow-list count too.
export function guardedLookup(policy: EgressPolicy & { port?: number | undefined } = {}): LookupFunction {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => {
    const port = policy.port ?? 0;
    checkDestination(hostname, port, policy).then(
      (destination) => {
        if (!destination.ok) {
          const reason = `refused: ${destination.reason}`;
          callback(new EgressRefusedError(destination.host, destination.refusal, reason), '');
          return;
        }
        answer(destination.addresses, options, callback);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, ''),
    );
  };
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function answer(
  addresses: LookupAddress[],
  options: LookupOneOptions | LookupAllOptions,
  callback: LookupCallback,
) {
  const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
  const usable = addresses.filter((entry) => wanted === undefined || entry.family === wanted);
  if ((options as LookupAllOptions).all) {
    callback(null, usable);
    return;
  }
  const first = usable[0];
  if (!first) {
    const error: NodeJS.ErrnoException = new Error(`no IPv${wanted ?? ''} address`);
    error.code = 'ENOTFOUND';
    callback(error, '', 0);
    return;
  }
  callback(null, first.address, first.family);
}

export function describeRefusal(refusal: AddressRefusal): string {
  switch (refusal) {
    case 'metadata':
      return 'a cloud metadata endpoint';
    case 'loopback':
      return 'a loopback address';
    case 'private':
      return 'a private address';
    case 'link-local':
      return 'a link-local address';
    case 'unique-local':
      return 'a unique-local address';
    case 'cgnat':
      return 'a carrier-grade NAT address';
    case 'unspecified':
      return 'the unspecified address';
    case 'broadcast':
      return 'the broadcast address';
    case 'multicast':
      return 'a multicast address';
    case 'reserved':
      return 'a reserved address';
  }
}
