import { get as httpGet, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import {
  EgressRefusedError,
  checkDestination,
  fetchThrough,
  guardedDispatcher,
  guardedLookup,
  parseAllowedHosts,
  type Resolve,
} from '../src';

// A real HTTP server on 127.0.0.1, and a stand-in for DNS (getaddrinfo cannot be pointed at a test
// server): names resolve as each test says, so a rebinding attack can be played out exactly.
describe('guarded connections', () => {
  const servers: Server[] = [];
  const requests: string[] = [];
  const dispatchers: Agent[] = [];

  async function listen(handler?: (url: string) => { status: number; location?: string }): Promise<number> {
    const server = createServer((request, response) => {
      requests.push(`${request.headers.host}${request.url}`);
      const answer = handler?.(request.url ?? '/') ?? { status: 200 };
      response.writeHead(answer.status, answer.location ? { location: answer.location } : {});
      response.end('ok');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const dispatcher = (...args: Parameters<typeof guardedDispatcher>) => {
    const created = guardedDispatcher(...args);
    dispatchers.push(created);
    return created;
  };

  // Public when the gateway checks, loopback when it connects: DNS rebinding.
  const rebinding = (): Resolve => {
    let calls = 0;
    return async () => {
      calls += 1;
      return calls === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    };
  };

  const refusalOf = async (promise: Promise<unknown>): Promise<unknown> => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeDefined();
    return (error as { cause?: unknown }).cause ?? error;
  };

  beforeEach(() => {
    requests.length = 0;
  });

  afterAll(async () => {
    await Promise.all(dispatchers.map((created) => created.close()));
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('should refuse at connect time a name that resolved to a public address when checked and to loopback now', async () => {
    const port = await listen();
    const policy = { resolve: rebinding() };
    const checked = await checkDestination('rebind.example', port, policy);
    expect(checked).toMatchObject({ ok: true, address: '93.184.216.34' });

    const cause = await refusalOf(fetchThrough(dispatcher(policy))(`http://rebind.example:${port}/token`));
    expect(cause).toBeInstanceOf(EgressRefusedError);
    expect((cause as Error).message).toBe(
      'refused: rebind.example resolves to 127.0.0.1, which is a loopback address',
    );
    expect(requests).toEqual([]);
  });

  it('should reach the server with the same resolution when nothing guards the connection', async () => {
    // The control for the test above: the fake DNS and the server do let a request through.
    const port = await listen();
    const unguarded = new Agent({
      connect: {
        lookup: (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
      },
    });
    dispatchers.push(unguarded);
    const response = await fetchThrough(unguarded)(`http://rebind.example:${port}/token`);
    expect(response.status).toBe(200);
    expect(requests).toEqual([`rebind.example:${port}/token`]);
  });

  it('should refuse address literals, whatever their spelling, before connecting', async () => {
    const port = await listen();
    const guardedFetch = fetchThrough(dispatcher());
    for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '[::ffff:127.0.0.1]']) {
      const cause = await refusalOf(guardedFetch(`http://${host}:${port}/`));
      expect(cause).toBeInstanceOf(EgressRefusedError);
    }
    expect(await checkDestination('0x7f.1', port)).toMatchObject({
      ok: false,
      refusal: 'loopback',
      reason: '0x7f.1 is a loopback address',
    });
    expect(requests).toEqual([]);
  });

  it('should let an allowed host:port through, and only that port', async () => {
    const port = await listen();
    const other = await listen();
    const allowHosts = parseAllowedHosts(`127.0.0.1:${port}`);
    const guardedFetch = fetchThrough(dispatcher({ allowHosts }));
    expect((await guardedFetch(`http://127.0.0.1:${port}/allowed`)).status).toBe(200);
    expect(await refusalOf(guardedFetch(`http://127.0.0.1:${other}/other`))).toBeInstanceOf(
      EgressRefusedError,
    );
    expect(requests).toEqual([`127.0.0.1:${port}/allowed`]);
  });

  it('should refuse a redirect from an allowed host to an address that is not', async () => {
    const target = await listen();
    const port = await listen(() => ({ status: 302, location: `http://127.0.0.1:${target}/secret` }));
    const allowHosts = parseAllowedHosts(`127.0.0.1:${port}`);
    const cause = await refusalOf(fetchThrough(dispatcher({ allowHosts }))(`http://127.0.0.1:${port}/start`));
    expect(cause).toBeInstanceOf(EgressRefusedError);
    expect(requests).toEqual([`127.0.0.1:${port}/start`]);
  });

  it("should refuse a rebinding name through node's own http client with guardedLookup", async () => {
    const port = await listen();
    const policy = { resolve: rebinding() };
    expect(await checkDestination('rebind.example', port, policy)).toMatchObject({ ok: true });
    const error = await new Promise<Error>((resolve, reject) => {
      httpGet({ host: 'rebind.example', port, path: '/', lookup: guardedLookup(policy) }, () =>
        reject(new Error('the request went through')),
      ).on('error', resolve);
    });
    expect(error).toBeInstanceOf(EgressRefusedError);
    expect(requests).toEqual([]);
  });

  it('should name why a host that does not resolve is refused', async () => {
    const failing: Resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await checkDestination('nowhere.example', 443, { resolve: failing })).toEqual({
      ok: false,
      host: 'nowhere.example',
      port: 443,
      refusal: 'unresolved',
      reason: 'nowhere.example does not resolve (ENOTFOUND)',
    });
  });
});
