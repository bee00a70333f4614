import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Controller, Get, Module, Post, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createRedis, redisOptionsFromUrl } from '@hangar/redis';
import { freePort, redisUrl, uniqueRedisPrefix } from '@hangar/testing';
import { bearerTokenHash, clientIp } from './rate-limit-keys';
import { RateLimitMiddleware } from './rate-limit.middleware';
import { RateLimitModule, type RateLimitSettings } from './rate-limit.module';
import { RateLimitStore } from './rate-limit.store';

@Controller()
class PingController {
  @Get('api/v1/ping')
  ping() {
    return { pong: true };
  }

  @Post('webhooks/ping')
  webhook() {
    return { received: true };
  }

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('metrics')
  metrics() {
    return 'up 1';
  }
}

class CollectingLogger implements LoggerService {
  readonly warnings: string[] = [];
  readonly infos: string[] = [];
  log(message: unknown) {
    this.infos.push(String(message));
  }
  warn(message: unknown) {
    this.warnings.push(String(message));
  }
  error() {}
  debug() {}
  verbose() {}
}

interface TestApp {
  app: INestApplication;
  base: string;
  logger: CollectingLogger;
  prefix: string;
  get: (path: string, headers?: Record<string, string>) => Promise<Response>;
}

const apps: INestApplication[] = [];

async function startApp(settings: Partial<RateLimitSettings> = {}, windowSeconds = 60): Promise<TestApp> {
  const prefix = uniqueRedisPrefix('rate_limit');
  @Module({
    imports: [
      RateLimitModule.forRoot(
        {
          REDIS_URL: redisUrl(),
          HANGAR_REDIS_PREFIX: prefix,
          RATE_LIMIT_IP_PER_MINUTE: 3,
          RATE_LIMIT_TOKEN_PER_MINUTE: 0,
          TRUST_PROXY: 0,
          ...settings,
        },
        { windowSeconds },
      ),
    ],
    controllers: [PingController],
  })
  class TestModule {}
  const logger = new CollectingLogger();
  const app = await NestFactory.create(TestModule, { logger });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    base,
    logger,
    prefix,
    get: (path, headers = {}) => fetch(`${base}${path}`, { headers }),
  };
}

async function statuses(responses: Promise<Response>[]) {
  return (await Promise.all(responses)).map((response) => response.status);
}

// A TCP relay to the real Redis, to take Redis away from a running gateway and bring it back.
class RedisRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(readonly port: number) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async open() {
    const target = redisOptionsFromUrl(redisUrl());
    this.server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  async close() {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  }
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe(RateLimitMiddleware.name, () => {
  it('should answer 429 problem+json with Retry-After when a client IP goes over its limit', async () => {
    const { get } = await startApp({ RATE_LIMIT_IP_PER_MINUTE: 3 });
    const allowed = [await get('/api/v1/ping'), await get('/api/v1/ping'), await get('/api/v1/ping')];
    expect(allowed.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(allowed.map((response) => response.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);
    expect(allowed[0]!.headers.get('ratelimit-limit')).toBe('3');

    const refused = await get('/api/v1/ping');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-limit')).toBe('3');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-reset')).toBe(String(retryAfter));
    expect(await refused.json()).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      code: 'RATE_LIMITED',
      detail: `rate limit of 3 requests per minute per client IP exceeded; retry in ${retryAfter} s`,
      instance: '/api/v1/ping',
    });
  });

  it('should count webhooks and unknown API paths, and leave health and metrics alone', async () => {
    const { base, get } = await startApp({ RATE_LIMIT_IP_PER_MINUTE: 3 });
    const hook = () => fetch(`${base}/webhooks/ping`, { method: 'POST' });
    expect(await statuses([hook(), get('/api/v1/ping'), get('/api/v1/no-such-thing')])).toEqual([
      201, 200, 404,
    ]);
    expect((await hook()).status).toBe(429);
    expect((await get('/api/v1/no-such-thing')).status).toBe(429);

    const probes = await Promise.all([get('/health/live'), get('/metrics'), get('/health/live')]);
    expect(probes.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(probes.some((response) => response.headers.has('ratelimit-limit'))).toBe(false);
  });

  it('should keep separate budgets for separate client IPs when the proxy is trusted', async () => {
    const { get } = await startApp({ RATE_LIMIT_IP_PER_MINUTE: 2, TRUST_PROXY: 1 });
    const from = (ip: string) => get('/api/v1/ping', { 'x-forwarded-for': ip });
    expect(await statuses([from('203.0.113.1'), from('203.0.113.1')])).toEqual([200, 200]);
    expect((await from('203.0.113.1')).status).toBe(429);
    // A spoofed entry left of the proxy's own does not buy a new budget.
    expect((await from('198.51.100.7, 203.0.113.1')).status).toBe(429);
    expect(await statuses([from('203.0.113.2'), from('203.0.113.2')])).toEqual([200, 200]);
  });

  it('should ignore X-Forwarded-For when no proxy is trusted', async () => {
    const { get } = await startApp({ RATE_LIMIT_IP_PER_MINUTE: 2, TRUST_PROXY: 0 });
    const from = (ip: string) => get('/api/v1/ping', { 'x-forwarded-for': ip });
    expect(await statuses([from('203.0.113.1'), from('203.0.113.2')])).toEqual([200, 200]);
    expect((await from('203.0.113.3')).status).toBe(429);
  });

  it('should keep separate budgets per token and store only its hash', async () => {
    const { get, prefix } = await startApp({ RATE_LIMIT_IP_PER_MINUTE: 100, RATE_LIMIT_TOKEN_PER_MINUTE: 2 });
    const as = (token: string) => get('/api/v1/ping', { authorization: `Bearer ${token}` });
    expect(await statuses([as('token-one'), as('token-one')])).toEqual([200, 200]);
    const refused = await as('token-one');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(
      /^rate limit of 2 requests per minute per API token exceeded; retry in \d+ s$/,
    );
    // The token's headers describe the tighter of the two limits.
    const other = await as('token-two');
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-limit')).toBe('2');
    expect(other.headers.get('ratelimit-remaining')).toBe('1');
    expect((await get('/api/v1/ping')).status).toBe(200);

    const redis = createRedis(redisUrl());
    try {
      const keys = await redis.keys(`${prefix}:ratelimit:*`);
      const hash = createHash('sha256').update('token-one').digest('hex');
      expect(keys).toContain(`${prefix}:ratelimit:token:${hash}`);
      expect(keys.some((key) => key.includes('token-one'))).toBe(false);
    } finally {
      redis.disconnect();
    }
  });

  it('should let a client in again when its window has passed', async () => {
    const { get } = await startApp({ RATE_LIMIT_IP_PER_MINUTE: 1 }, 1);
    expect((await get('/api/v1/ping')).status).toBe(200);
    const refused = await get('/api/v1/ping');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect((await get('/api/v1/ping')).status).toBe(200);
  });

  it('should let requests through and warn once when Redis is unreachable', async () => {
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const { get, logger } = await startApp({ REDIS_URL: unreachable, RATE_LIMIT_IP_PER_MINUTE: 1 });
    const responses = await Promise.all([1, 2, 3, 4].map(() => get('/api/v1/ping')));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect(responses.some((response) => response.headers.has('ratelimit-limit'))).toBe(false);
    const failOpen = logger.warnings.filter((line) => line.startsWith('rate limits not enforced'));
    expect(failOpen).toHaveLength(1);
  });

  it('should fail open while Redis is away and limit again when it is back', async () => {
    const relay = new RedisRelay(await freePort());
    await relay.open();
    try {
      const { app, get, logger } = await startApp({ REDIS_URL: relay.url, RATE_LIMIT_IP_PER_MINUTE: 1 });
      expect(await statuses([get('/api/v1/ping')])).toEqual([200]);
      expect((await get('/api/v1/ping')).status).toBe(429);

      await relay.close();
      expect(await statuses([get('/api/v1/ping'), get('/api/v1/ping')])).toEqual([200, 200]);
      expect(logger.warnings.some((line) => line.startsWith('rate limits not enforced'))).toBe(true);

      await relay.open();
      expect(await app.get(RateLimitStore).waitUntilReady(10_000)).toBe(true);
      expect((await get('/api/v1/ping')).status).toBe(429);
      expect(logger.infos.some((line) => line.startsWith('rate limits enforced again'))).toBe(true);
    } finally {
      await relay.close();
    }
  });
});

describe(clientIp.name, () => {
  const request = (remoteAddress: string, forwardedFor?: string) => ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  });

  it('should use the socket address when no proxy is trusted', () => {
    expect(clientIp(request('::ffff:10.0.0.5', '203.0.113.9'), 0)).toBe('10.0.0.5');
  });

  it('should take the entry the trusted proxies wrote, not what the client sent', () => {
    expect(clientIp(request('10.0.0.1', '198.51.100.7, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientIp(request('10.0.0.1', '198.51.100.7, 203.0.113.9, 10.0.0.2'), 2)).toBe('203.0.113.9');
  });

  it('should fall back to the nearest address when the header is missing, short or not an address', () => {
    expect(clientIp(request('10.0.0.1'), 1)).toBe('10.0.0.1');
    expect(clientIp(request('10.0.0.1', '203.0.113.9'), 3)).toBe('203.0.113.9');
    expect(clientIp(request('10.0.0.1', 'not-an-ip'), 1)).toBe('10.0.0.1');
  });
});

describe(bearerTokenHash.name, () => {
  it('should hash bearer tokens and ignore other schemes', () => {
    expect(bearerTokenHash('Bearer abc')).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(bearerTokenHash('bearer  abc ')).toBe(bearerTokenHash('Bearer abc'));
    expect(bearerTokenHash('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerTokenHash('Bearer ')).toBeUndefined();
    expect(bearerTokenHash(undefined)).toBeUndefined();
  });
});
