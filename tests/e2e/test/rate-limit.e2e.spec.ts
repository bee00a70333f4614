import type { Problem } from '@hangar/contracts';
import { freePort, ServiceStack, type ServiceProcess } from '@hangar/testing';
import { request, signIn } from './support';

const IP_LIMIT = 10;
const TOKEN_LIMIT = 6;
const SIGN_IN_ACCOUNT_LIMIT = 3;
const SIGN_IN_IP_LIMIT = 5;

async function waitUntilReady(replica: ServiceProcess, url: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (replica.child.exitCode !== null) throw new Error(`gateway exited:\n${replica.output.join('\n')}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`second gateway not ready within 30 s:\n${replica.output.slice(-20).join('\n')}`);
}

describe('rate limits hold across gateway replicas', () => {
  let stack: ServiceStack;
  let second: ServiceProcess | undefined;
  let replicas: string[];
  // A signed-in session: counted per client IP only, never against a token's budget.
  let session: string;

  beforeAll(async () => {
    // The proxy is trusted so each test can speak as its own client IP.
    stack = await ServiceStack.create('rate_limit', {
      RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT),
      RATE_LIMIT_TOKEN_PER_MINUTE: String(TOKEN_LIMIT),
      LOGIN_ATTEMPTS_PER_15_MINUTES: String(SIGN_IN_ACCOUNT_LIMIT),
      LOGIN_ATTEMPTS_PER_IP_PER_15_MINUTES: String(SIGN_IN_IP_LIMIT),
      TRUST_PROXY: '1',
    });
    await stack.start(['gateway']);
    const first = stack.processes.get('gateway');
    const port = await freePort();
    second = stack.spawn('gateway', { GATEWAY_PORT: String(port) });
    // spawn() files the replica under the same name; keep the first there so dispose() stops it.
    if (first) stack.processes.set('gateway', first);
    const secondUrl = `http://127.0.0.1:${port}`;
    await waitUntilReady(second, secondUrl);
    replicas = [stack.gatewayUrl, secondUrl];
    session = await signIn(stack, stack.admin.email, stack.admin.password);
  });

  afterAll(async () => {
    if (second && second.child.exitCode === null) {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    await stack?.dispose();
  });

  const call = (replica: number, headers: Record<string, string>) =>
    fetch(`${replicas[replica % 2]}/api/v1/profiles`, {
      headers: headers.authorization ? headers : { cookie: session, ...headers },
    });

  it('should allow the limit in total, not per replica, and refuse the next on either', async () => {
    const client = { 'x-forwarded-for': '203.0.113.10' };
    for (let index = 0; index < IP_LIMIT; index++) {
      const response = await call(index, client);
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-remaining')).toBe(String(IP_LIMIT - index - 1));
    }
    for (const replica of [0, 1]) {
      const refused = await call(replica, client);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
      expect(refused.headers.get('ratelimit-limit')).toBe(String(IP_LIMIT));
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect((await refused.json()) as Problem).toMatchObject({
        status: 429,
        title: 'Too Many Requests',
        code: 'RATE_LIMITED',
        detail: expect.stringContaining('per client IP') as unknown,
        instance: '/api/v1/profiles',
      });
    }
    // Probes are never limited.
    for (const url of replicas) expect((await fetch(`${url}/health/ready`)).status).toBe(200);
  });

  it('should let exactly the limit through when a burst hits both replicas at once', async () => {
    const client = { 'x-forwarded-for': '203.0.113.11' };
    const responses = await Promise.all(
      Array.from({ length: IP_LIMIT * 2 }, (_, index) => call(index, client)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(IP_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(IP_LIMIT);
  });

  it('should share one budget per API token across replicas', async () => {
    const client = { 'x-forwarded-for': '203.0.113.12' };
    const token = { ...client, authorization: `Bearer ${stack.adminToken}` };
    const statuses: number[] = [];
    for (let index = 0; index <= TOKEN_LIMIT; index++) statuses.push((await call(index, token)).status);
    expect(statuses).toEqual([...Array<number>(TOKEN_LIMIT).fill(200), 429]);
    const refused = await call(1, token);
    expect(((await refused.json()) as Problem).detail).toContain('per API token');
    // The same client without the token still has IP budget left.
    expect((await call(0, client)).status).toBe(200);
  });

  describe('failed sign-ins', () => {
    // All at once, spread over both replicas: each answer's status, in order.
    const attempts = async (tries: { email: string; password?: string; ip: string }[]) =>
      (
        await Promise.all(
          tries.map(({ email, password = 'a-wrong-password', ip }, index) =>
            fetch(`${replicas[index % 2]}/api/v1/auth/login`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
              body: JSON.stringify({ email, password }),
            }),
          ),
        )
      ).map((response) => response.status);
    const count = (statuses: number[], status: number) => statuses.filter((each) => each === status).length;

    it('should let exactly the limit through when they arrive at once, then refuse even the right password', async () => {
      const password = 'locked-password-1';
      const created = await request(
        stack,
        'POST',
        '/api/v1/users',
        { email: 'locked@example.com', name: 'Locked', password },
        { authorization: '', cookie: session },
      );
      expect(created.status).toBe(201);
      const statuses = await attempts(
        Array.from({ length: 8 }, () => ({ email: 'locked@example.com', ip: '198.51.100.1' })),
      );
      expect(count(statuses, 401)).toBe(SIGN_IN_ACCOUNT_LIMIT);
      expect(count(statuses, 429)).toBe(8 - SIGN_IN_ACCOUNT_LIMIT);

      // The account is what is limited: the right password, from anywhere, waits too.
      const right = await fetch(`${stack.gatewayUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.2' },
        body: JSON.stringify({ email: 'locked@example.com', password }),
      });
      expect(right.status).toBe(429);
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await right.json()) as Problem).toMatchObject({
        code: 'TOO_MANY_ATTEMPTS',
        detail: expect.stringContaining('for this account') as unknown,
      });
    });

    it('should limit one account tried from many addresses', async () => {
      const statuses = await attempts(
        Array.from({ length: 8 }, (_, index) => ({
          email: 'rotated@example.com',
          ip: `198.51.100.${10 + index}`,
        })),
      );
      expect(count(statuses, 401)).toBe(SIGN_IN_ACCOUNT_LIMIT);
      expect(count(statuses, 429)).toBe(8 - SIGN_IN_ACCOUNT_LIMIT);
    });

    it('should limit one address trying many accounts, and only that address', async () => {
      const statuses = await attempts(
        Array.from({ length: 8 }, (_, index) => ({
          email: `sprayed-${index}@example.com`,
          ip: '198.51.100.30',
        })),
      );
      expect(count(statuses, 401)).toBe(SIGN_IN_IP_LIMIT);
      expect(count(statuses, 429)).toBe(8 - SIGN_IN_IP_LIMIT);
      // An account the refused attempts named is not charged for them.
      expect(await attempts([{ email: 'sprayed-7@example.com', ip: '198.51.100.31' }])).toEqual([401]);
    });

    it('should not count sign-ins that succeed', async () => {
      // One after another (an attempt in flight holds its point until it is decided).
      const statuses: number[] = [];
      for (let index = 0; index < SIGN_IN_IP_LIMIT + 2; index++) {
        statuses.push(
          ...(await attempts([
            { email: stack.admin.email, password: stack.admin.password, ip: '198.51.100.40' },
          ])),
        );
      }
      expect(statuses).toEqual(statuses.map(() => 200));
    });
  });

  it('should mark the session cookie Secure when the trusted proxy says the request came over HTTPS', async () => {
    const signIn = (proto: string) =>
      fetch(`${stack.gatewayUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-proto': proto,
          'x-forwarded-for': '203.0.113.20',
        },
        body: JSON.stringify({ email: stack.admin.email, password: stack.admin.password }),
      });
    expect((await signIn('https')).headers.getSetCookie()[0]).toMatch(/; Secure/i);
    expect((await signIn('http')).headers.getSetCookie()[0]).not.toMatch(/; Secure/i);
  });
});
