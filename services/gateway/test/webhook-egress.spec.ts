import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayConfigSchema } from '../src/config';
import { createProviderClient, ProviderClientError } from '../src/modules/webhooks/clients/provider-client';
import { WebhookEgress, withGuardedFetch } from '../src/modules/webhooks/clients/provider-egress';

const THREAD = { kind: 'slack-message' as const, channel: 'C1', ts: '1.1', threadTs: '1.1' };

// The provider clients against a real local server standing in for the API an apiUrl names: on
// 127.0.0.1, so refused unless the installation allows it. Slack's client, because it loads under
// Jest; octokit and jira.js (ES modules only) are exercised the same way by the end-to-end specs.
describe('provider clients and the egress guard', () => {
  let server: Server;
  let base: string;
  let port: number;
  const requests: { path: string; authorization?: string | undefined }[] = [];
  const egresses: WebhookEgress[] = [];

  const egressWith = (env: Record<string, string>) => {
    const egress = new WebhookEgress(GatewayConfigSchema.parse(env));
    egresses.push(egress);
    return egress;
  };

  const slack = (apiUrl: string, egress: WebhookEgress) =>
    createProviderClient({
      provider: 'slack',
      credentials: { botToken: 'xoxb-0123456789abcdef' },
      apiUrl,
      egress,
    });

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push({ path: request.url ?? '/', authorization: request.headers.authorization });
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: true, ts: '1.2' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  beforeEach(() => {
    requests.length = 0;
  });

  afterAll(async () => {
    await Promise.all(egresses.map((egress) => egress.onApplicationShutdown()));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('should send no token to an apiUrl on a loopback address, whatever its spelling, and say why', async () => {
    const egress = egressWith({});
    for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '[::ffff:127.0.0.1]']) {
      const failure = await failureOf(slack(`http://${host}:${port}/api/`, egress).reply(THREAD, 'hello'));
      expect(failure).toBeInstanceOf(ProviderClientError);
      expect((failure as Error).message).toMatch(
        /^Slack reply cannot run: apiUrl .* is refused: \S+ is a loopback address/,
      );
    }
    expect(requests).toEqual([]);
  });

  it('should send to a host WEBHOOK_API_ALLOWED_HOSTS names, on that port only', async () => {
    const egress = egressWith({ WEBHOOK_API_ALLOWED_HOSTS: `127.0.0.1:${port}` });
    await slack(`${base}/api/`, egress).reply(THREAD, 'hello');
    expect(requests).toEqual([
      { path: '/api/chat.postMessage', authorization: 'Bearer xoxb-0123456789abcdef' },
    ]);
    const otherPort = await failureOf(
      slack(`http://127.0.0.1:${port + 1}/api/`, egress).reply(THREAD, 'hello'),
    );
    expect((otherPort as Error).message).toContain('is refused');
  });

  it("should trust the static receivers' own API URLs as if they were listed", async () => {
    const egress = egressWith({ SLACK_API_URL: `${base}/api/` });
    await slack(`${base}/api/`, egress).reply(THREAD, 'hello');
    expect(requests).toHaveLength(1);
  });

  it('should guard the global fetch jira.js uses inside a provider call, and only there', async () => {
    const egress = egressWith({});
    const inside = await failureOf(withGuardedFetch(egress, () => fetch(`${base}/inside`)));
    expect(((inside as Error).cause as Error).name).toBe('EgressRefusedError');
    const outside = await fetch(`${base}/outside`);
    expect(outside.status).toBe(200);
    expect(requests.map((request) => request.path)).toEqual(['/outside']);
  });
});
