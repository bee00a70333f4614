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
  '/api/v1/projects/default/git-hosts',
  '/api/v1/projects/%00/git-hosts',
  '/api/v1/workflows',
  '/api/v1/workflows/validate',
  '/api/v1/workflows/x/runs',
  '/api/v1/workflow-runs?status=%00&limit=1e9',
  '/api/v1/workflow-runs/x/steps/%FF/approve',
];

// One path of every route the gateway serves; `public` ones answer without a caller.
const ROUTES: { path: string; public?: boolean }[] = [
  { path: '/api/v1/tasks' },
  { path: '/api/v1/tasks/x' },
  { path: '/api/v1/tasks/x/events' },
  { path: '/api/v1/tasks/x/diff' },
  { path: '/api/v1/tasks/x/cancel' },
  { path: '/api/v1/tasks/x/retry' },
  { path: '/api/v1/scenarios' },
  { path: '/api/v1/profiles' },
  { path: '/api/v1/profiles/default' },
  { path: '/api/v1/conversations' },
  { path: '/api/v1/conversations/x' },
  { path: '/api/v1/conversations/x/messages' },
  { path: '/api/v1/projects' },
  { path: '/api/v1/projects/default' },
  { path: '/api/v1/projects/default/members' },
  { path: '/api/v1/projects/default/members/x' },
  { path: '/api/v1/projects/default/git-hosts' },
  { path: '/api/v1/users' },
  { path: '/api/v1/users/x' },
  { path: '/api/v1/tokens' },
  { path: '/api/v1/tokens/x' },
  { path: '/api/v1/audit' },
  { path: '/api/v1/analytics' },
  { path: '/api/v1/runners' },
  { path: '/api/v1/auth/me' },
  { path: '/api/v1/auth/logout' },
  { path: '/api/v1/webhooks' },
  { path: '/api/v1/webhooks/x' },
  { path: '/api/v1/webhook-deliveries' },
  { path: '/api/v1/webhook-deliveries/x/redeliver' },
  { path: '/api/v1/workflows' },
  { path: '/api/v1/workflows/validate' },
  { path: '/api/v1/workflows/templates' },
  { path: '/api/v1/workflows/x' },
  { path: '/api/v1/workflows/x/versions' },
  { path: '/api/v1/workflows/x/runs' },
  { path: '/api/v1/workflow-runs' },
  { path: '/api/v1/workflow-runs/x' },
  { path: '/api/v1/workflow-runs/x/cancel' },
  { path: '/api/v1/workflow-runs/x/steps/y/approve' },
  { path: '/api/v1/workflow-runs/x/steps/y/reject' },
  { path: '/api/v1/auth/login', public: true },
  { path: '/api/openapi.json', public: true },
  { path: '/api/docs', public: true },
  { path: '/webhooks/github', public: true },
  { path: '/webhooks/slack/x', public: true },
  { path: '/health/live', public: true },
  { path: '/metrics', public: true },
];

// Other spellings of one path: letter case, doubled, encoded and backslashed slashes, dot
// segments, trailing dots and slashes, encoded letters, matrix parameters.
function spellings(path: string): string[] {
  const segments = path.split('/').slice(1);
  const join = (parts: string[]) => '/' + parts.join('/');
  const eachSegment = (change: (segment: string) => string) =>
    segments.map((_, index) =>
      join(segments.map((segment, at) => (at === index ? change(segment) : segment))),
    );
  const slashes = (glue: string) =>
    segments
      .slice(1)
      .map((_, index) => join(segments.slice(0, index + 1)) + glue + segments.slice(index + 1).join('/'));
  return [
    path.toUpperCase(),
    join(segments.map((segment) => segment.charAt(0).toUpperCase() + segment.slice(1))),
    ...eachSegment((segment) => segment.toUpperCase()),
    ...eachSegment((segment) => `${segment}.`),
    ...eachSegment((segment) => `${segment}%2e`),
    ...eachSegment((segment) => `${segment};x=1`),
    ...eachSegment((segment) => `%${segment.charCodeAt(0).toString(16)}${segment.slice(1)}`),
    '/' + path,
    ...slashes('//'),
    ...slashes('%2F'),
    ...slashes('%2f'),
    ...slashes('\\'),
    ...slashes('/./'),
    ...slashes('/x/../'),
    `${path}/`,
    `${path}//`,
    `${path}%00`,
    `${path}%20`,
    `${path}/.`,
    `${path}?`,
    `${path}#`,
  ];
}

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
    // PostgreSQL cannot store NUL: refused before it gets there, in values and in keys.
    () => JSON.stringify({ prompt: 'a\u0000b', content: 'a\u0000b', name: 'nul\u0000' }),
    () => JSON.stringify({ name: 'nul', mcpServers: { a: { command: 'x', env: { 'K\u0000': 'v' } } } }),
    () => `{"prompt":"${'\ud800'}"}` + '}',
    () => Buffer.from(Array.from({ length: 64 }, () => Math.floor(random.next() * 256))).toString('latin1'),
  ];
  return random.pick(shapes)();
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number | string; contentType: string }>((resolve) => {
    // A connection per request: a reused keep-alive socket the server just closed would fail
    // for reasons of the client's own, not the gateway's.
    // Node sends no length of its own for a DELETE's body; the server would read it as a request.
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const options = {
      host: '127.0.0.1',
      port,
      method,
      path,
      headers: { ...headers, ...length },
      agent: false,
    };
    const req = httpRequest(options, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '' }),
      );
    });
    // A refused or reset connection is a crash symptom; report it as a status the test rejects.
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: error.code ?? error.message, contentType: '' }),
    );
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
      LOGIN_ATTEMPTS_PER_IP_PER_15_MINUTES: '100000',
    });
    await stack.start(['gateway']);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should never let another spelling of a path past authentication, nor answer it with a 5xx', async () => {
    const port = stack.ports.get('gateway')!;
    const failures: string[] = [];
    const queue = ROUTES.flatMap((route) =>
      [route.path, ...spellings(route.path)].flatMap((path) =>
        ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'].flatMap((method) =>
          [false, true].map((admin) => ({ path, method, admin, needsCaller: !admin && !route.public })),
        ),
      ),
    );
    const worker = async () => {
      for (let next = queue.pop(); next; next = queue.pop()) {
        const { path, method, admin, needsCaller } = next;
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          ...(admin ? { authorization: `Bearer ${stack.adminToken}` } : {}),
        };
        // An unknown field: every body is refused, so nothing is created whatever route it reaches.
        const body = method === 'GET' || method === 'HEAD' ? undefined : '{"fuzzed":true}';
        const { status, contentType } = await send(port, method, path, headers, body);
        const wrong =
          typeof status !== 'number' ||
          status >= 500 ||
          // Without credentials, a route that needs them answers 401 or does not exist.
          (needsCaller && method !== 'OPTIONS' && status !== 401 && status !== 404) ||
          (status >= 400 && method !== 'HEAD' && !contentType.startsWith('application/problem+json'));
        if (wrong) failures.push(`${method} ${path}${admin ? ' (admin)' : ''} → ${status} ${contentType}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(failures).toEqual([]);

    // The one spelling that is served still works, with and without a caller.
    expect((await send(port, 'GET', '/api/v1/tasks', {})).status).toBe(401);
    const admin = { authorization: `Bearer ${stack.adminToken}` };
    expect((await send(port, 'GET', '/api/v1/tasks', admin)).status).toBe(200);
    expect((await send(port, 'GET', '/API/v1/tasks', admin)).status).toBe(404);
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
        const { status } = await send(port, method, path, headers, body);
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
                (SELECT count(*) FROM webhook_deliveries WHERE status <> 'rejected' OR payload IS NOT NULL) AS kept,
                (SELECT count(*) FROM workflows) AS workflows, (SELECT count(*) FROM workflow_runs) AS runs`,
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
        workflows: '0',
        runs: '0',
      });
    } finally {
      await client.end();
    }
  });
});
