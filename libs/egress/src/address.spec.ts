import { classifyAddress } from './address';
import { isAllowedHost, parseAllowedHost, parseAllowedHosts } from './allowed-hosts';

describe(classifyAddress.name, () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
  ])('should refuse the IPv4 address %s as %s', (address, refusal) => {
    expect(classifyAddress(address)).toBe(refusal);
  });

  it.each([
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['fd00:ec2::254', 'metadata'],
    ['2001:db8::1', 'reserved'],
    ['2002:7f00:1::', 'reserved'],
    ['100::1', 'reserved'],
    ['[::1]', 'loopback'],
  ])('should refuse the IPv6 address %s as %s', (address, refusal) => {
    expect(classifyAddress(address)).toBe(refusal);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
  ])('should judge IPv4 inside IPv6 (%s) by the IPv4 address it carries', (address, refusal) => {
    expect(classifyAddress(address)).toBe(refusal);
  });

  it.each([
    ['2130706433', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0xa9.0xfe.0xa9.0xfe', 'metadata'],
  ])('should read %s the way inet_aton would and refuse it as %s', (address, refusal) => {
    expect(classifyAddress(address)).toBe(refusal);
  });

  it('should refuse the decimal and hex spellings even after the URL parser has read them', () => {
    expect(new URL('http://2130706433/').hostname).toBe('127.0.0.1');
    expect(new URL('http://0x7f.1/').hostname).toBe('127.0.0.1');
    expect(classifyAddress(new URL('http://0x7f.1/').hostname)).toBe('loopback');
  });

  it.each(['140.82.112.6', '8.8.8.8', '2606:4700::6810:84e5', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'should take %s for public',
    (address) => {
      expect(classifyAddress(address)).toBe('public');
    },
  );

  it('should refuse what is not an address at all rather than pass it', () => {
    expect(classifyAddress('localhost')).toBe('reserved');
    expect(classifyAddress('')).toBe('reserved');
  });
});

describe(parseAllowedHost.name, () => {
  it('should read host, host:port and bracketed IPv6 entries', () => {
    expect(parseAllowedHosts('ghe.corp.example, jira.corp.example:8443 [fd00::5]:443 10.0.0.7')).toEqual([
      { host: 'ghe.corp.example' },
      { host: 'jira.corp.example', port: 8443 },
      { host: 'fd00::5', port: 443 },
      { host: '10.0.0.7' },
    ]);
  });

  it('should refuse an entry that is no host, naming it', () => {
    expect(() => parseAllowedHost('https://ghe.corp.example')).toThrow('"https://ghe.corp.example"');
    expect(() => parseAllowedHost('ghe.corp.example:99999')).toThrow('port');
  });

  it('should match a host whatever its spelling, and a port only when the entry names one', () => {
    const allowed = parseAllowedHosts('GHE.corp.example,127.0.0.1:8080');
    expect(isAllowedHost('ghe.corp.example.', 443, allowed)).toBe(true);
    expect(isAllowedHost('127.0.0.1', 8080, allowed)).toBe(true);
    expect(isAllowedHost('::ffff:127.0.0.1', 8080, allowed)).toBe(true);
    expect(isAllowedHost('127.0.0.1', 8081, allowed)).toBe(false);
    expect(isAllowedHost('evil.example', 443, allowed)).toBe(false);
  });
});
