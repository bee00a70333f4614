import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import { ServiceStack } from '@hangar/testing';

// Deterministic: a failure names its seed and request, and reruns the same way.
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const PATHS = [
  '/api/v1/tasks',
  '/api/v1/tasks/%FF',
  '/api/v1/tasks/x/cancel',
  '/api/v1/tasks/../../etc/passwd',
  '/api/v1/tasks?limit=-1&cursor=%00',
  '/api/v1/tasks?status[]=a&status[]=b',
  '/api/v1/tasks/x/events?afterSeq=NaN',
  '/api/v1/profiles',
  '/api/v1/profiles/%E0%A4%A',
  '/api/v1/conversations',
  '/api/v1/conversations/x/messages',
  '/api/openapi.json?x=' + 'y'.repeat(3000),
  '/api/v1/' + 'a/'.repeat(200),
  '/%2e%2e/%2e%2e/',
  '/webhooks/github',
  '/webhooks/slack',
  '/webhooks/github/nope',
  '/webhooks/%00/x',
  '/api/v1/webhooks',
  '/api/v1/tokens',
  '/api/v1/auth/login',
  '/api/v1/projects/default/members/x',
];

// Bodies that are never a valid request: each breaks the schema somewhere, so nothing may be stored.
function badBody(random: ReturnType<typeof prng>): string {
  const deep = (depth: number): unknown => (depth === 0 ? 1 : { a: deep(depth - 1) });
  const shapes: (() => string)[] = [
    () => '{"prompt": ',
    () => '[]',
    () => 'null',
    () => '"just a string"',
    () => JSON.stringify({ prompt: '' }),
    () => JSON.stringify({ prompt: 'x', timeoutSeconds: 1e308 }),
    () => JSON.stringify({ prompt: 'x', repository: '--upload-pack=touch /tmp/fuzzed' }),
    () => JSON.stringify({ prompt: 'x', __proto__: { admin: true }, constructor: { prototype: {} } }),
    () => JSON.stringify({ prompt: 'x', extra: deep(500) }),
    () => JSON.stringify({ prompt: { $ne: null } }),
    () => JSON.stringify({ name: 'Bad Name', provider: 'nope', mcpServers: { a: { command: 1 } } }),
    () => JSON.stringify({ content: 7 }),
    () => `{"prompt":"${'\ud800'}"}` + '}',
    () => Buffer.from(Array.from({ length: 64 }, () => Math.floor(random.next() * 256))).toString('latin1'),
  ];
  return random.pick(shapes)();
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<number | string>((resolve) => {
    // A connection per request: a reused keep-alive socket the server just closed would fail
    // for reasons of the client's own, not the gateway's.
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    // A refused or reset connection is a crash symptom; report it as a status the test rejects.
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('fuzzing the gateway', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('fuzz', {
      RATE_LIMIT_IP_PER_MINUTE: '0',
      RATE_LIMIT_TOKEN_PER_MINUTE: '0',
      GITHUB_WEBHOOK_SECRET: 'fuzz-github-secret-0123',
      SLACK_SIGNING_SECRET: 'fuzz-slack-secret-0123',
      LOGIN_ATTEMPTS_PER_15_MINUTES: '100000',
    });
    await stack.start(['gateway']);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should answer thousands of malformed requests without a 5xx or a crash, and store nothing', async () => {
    const seed = 20261123;
    const random = prng(seed);
    const port = stack.ports.get('gateway')!;
    const failures: string[] = [];
    const total = 2500;
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        const index = sent++;
        const method = random.pick(['GET', 'POST', 'POST', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS']);
        const path = random.pick(PATHS);
        const headers: Record<string, string> = {
          'content-type': random.pick([
            'application/json',
            'application/json; charset=utf-16',
            'text/plain',
            'application/x-www-form-urlencoded',
          ]),
          ...(random.next() < 0.3
            ? { 'idempotency-key': random.pick(['k', 'ü-key', 'x'.repeat(300), 'same-key']) }
            : {}),
          // Half the time as the admin, so bodies get past authentication to validation.
          ...(random.next() < 0.5
            ? { authorization: `Bearer ${stack.adminToken}` }
            : random.next() < 0.4
              ? {
                  authorization: random.pick([
                    'Bearer ',
                    'Bearer \u00ff',
                    'Basic x',
                    'Bearer hgr_' + 'A'.repeat(40),
                  ]),
                }
              : {}),
          ...(random.next() < 0.1
            ? { 'x-hub-signature-256': 'sha256=' + 'ab'.repeat(32), 'x-github-event': 'issues' }
            : {}),
        };
        const body = method === 'GET' || method === 'OPTIONS' ? undefined : badBody(random);
        const status = await send(port, method, path, headers, body);
        if (typeof status !== 'number' || status < 200 || status >= 500)
          failures.push(
            `#${index} ${method} ${path} [${headers['content-type']}] → ${status}: ${body?.slice(0, 80)}`,
          );
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(failures).toEqual([]);

    // Still alive and serving.
    expect((await fetch(`${stack.gatewayUrl}/health/ready`)).status).toBe(200);
    expect(stack.processes.get('gateway')!.child.exitCode).toBeNull();

    // Nothing written.
    const client = new Client({ connectionString: stack.database.url });
    await client.connect();
    try {
      const counts = await client.query<Record<string, string>>(
        `SELECT (SELECT count(*) FROM tasks) AS tasks, (SELECT count(*) FROM conversations) AS conversations,
                (SELECT count(*) FROM idempotency_keys) AS keys, (SELECT count(*) FROM agent_profiles) AS profiles,
                (SELECT count(*) FROM api_tokens) AS tokens, (SELECT count(*) FROM users) AS users,
                (SELECT count(*) FROM webhook_configs) AS webhooks, (SELECT count(*) FROM project_members) AS members,
                (SELECT count(*) FROM webhook_deliveries WHERE status <> 'rejected' OR payload IS NOT NULL) AS kept`,
      );
      // The bootstrap's admin, its membership and token are all there is.
      expect(counts.rows[0]).toEqual({
        tasks: '0',
        conversations: '0',
        keys: '0',
        profiles: '1',
        tokens: '1',
        users: '1',
        webhooks: '0',
        members: '1',
        kept: '0',
      });
    } finally {
      await client.end();
    }
  });
});
