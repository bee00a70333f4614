import ipaddr from 'ipaddr.js';

// Why an address is no place for the gateway (or an agent's egress) to send anything.
export const ADDRESS_REFUSALS = [
  'metadata',
  'loopback',
  'private',
  'link-local',
  'unique-local',
  'cgnat',
  'unspecified',
  'broadcast',
  'multicast',
  'reserved',
] as const;
export type AddressRefusal = (typeof ADDRESS_REFUSALS)[number];
export type AddressClass = 'public' | AddressRefusal;

// Cloud instance metadata and platform endpoints: they hand out credentials to whoever asks from
// inside. Named first so a refusal says "metadata" rather than "link-local".
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OCI, OpenStack
  '169.254.170.2', // AWS ECS task credentials
  '169.254.169.253', // AWS DNS
  '168.63.129.16', // Azure wire server (a public range)
  '100.100.100.200', // Alibaba Cloud
  'fd00:ec2::254', // AWS over IPv6
  'fd00:ec2::23', // AWS DNS over IPv6
]);

const IPV4_REFUSALS: Record<string, AddressRefusal> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'cgnat',
  private: 'private',
};

const IPV6_REFUSALS: Record<string, AddressRefusal> = {
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'private',
};

// The global unicast block: every IPv6 address outside it is unallocated or special.
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');
// NAT64's well-known prefix: the last 32 bits are the IPv4 address it reaches.
const NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

// The address as ipaddr.js reads it: dotted quads and IPv6, but also the forms inet_aton takes
// (2130706433, 0x7f.1, 0177.0.0.1, 127.1), which getaddrinfo would connect to all the same.
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  try {
    // A zone (fe80::1%eth0) names an interface, not another address.
    return ipaddr.parse(bare.replace(/%.*$/, ''));
  } catch {
    return undefined;
  }
}

// One spelling per address: 127.0.0.1, 2130706433 and ::ffff:127.0.0.1 are the same host.
export function canonicalAddress(text: string): string | undefined {
  const parsed = parseAddress(text);
  if (!parsed) return undefined;
  if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString();
  return parsed.toString();
}

// 'public', or why not. Anything that is not an address at all is refused as reserved: a caller
// that classifies a hostname has skipped resolving it.
export function classifyAddress(text: string): AddressClass {
  const parsed = parseAddress(text);
  if (!parsed) return 'reserved';
  return parsed.kind() === 'ipv4' ? classifyIpv4(parsed as ipaddr.IPv4) : classifyIpv6(parsed as ipaddr.IPv6);
}

function classifyIpv4(address: ipaddr.IPv4): AddressClass {
  if (METADATA_ADDRESSES.has(address.toString())) return 'metadata';
  const range = address.range();
  if (range === 'unicast') return 'public';
  return IPV4_REFUSALS[range] ?? 'reserved';
}

function classifyIpv6(address: ipaddr.IPv6): AddressClass {
  if (METADATA_ADDRESSES.has(address.toString())) return 'metadata';
  const range = address.range();
  // IPv4 carried inside IPv6 (::ffff:127.0.0.1, NAT64's 64:ff9b::/96) goes where the IPv4 goes.
  if (range === 'ipv4Mapped' || range === 'rfc6145' || address.match(NAT64)) {
    return classifyIpv4(embeddedIpv4(address));
  }
  const refusal = IPV6_REFUSALS[range];
  if (refusal) return refusal;
  return range === 'unicast' && address.match(GLOBAL_UNICAST) ? 'public' : 'reserved';
}

function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  const parts = address.parts;
  const high = parts[6] ?? 0;
  const low = parts[7] ?? 0;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}
