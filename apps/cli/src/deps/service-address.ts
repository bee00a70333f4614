export interface ServiceAddress {
  url: string;
  host: string;
  port: number;
  password: string | undefined;
  isLocal: boolean;
  // The URL with any password masked, for messages.
  display: string;
}

const LOCAL_HOSTS = new Set(['', 'localhost', '::1', '0.0.0.0', '::']);

export function isLocalHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return LOCAL_HOSTS.has(bare) || bare.startsWith('127.') || bare.endsWith('.localhost');
}

export function parseServiceAddress(url: string, defaultPort: number): ServiceAddress {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  const masked = new URL(url);
  if (masked.password !== '') masked.password = '***';
  return {
    url,
    host,
    port: parsed.port === '' ? defaultPort : Number(parsed.port),
    password,
    isLocal: isLocalHost(host),
    display: masked.toString(),
  };
}

export function postgresAddress(url: string): ServiceAddress {
  return parseServiceAddress(url, 5432);
}

export function redisAddress(url: string): ServiceAddress {
  return parseServiceAddress(url, 6379);
}

// The interface a server started by hangar should listen on to be reachable at `host`.
export function listenAddressFor(host: string): string {
  if (host === '::1') return '::1';
  if (host.startsWith('127.')) return host;
  return '127.0.0.1';
}
