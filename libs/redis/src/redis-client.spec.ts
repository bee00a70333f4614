import { checkRedis, redisOptionsFromUrl } from './redis-client';

describe(checkRedis.name, () => {
  it('should resolve when Redis answers', async () => {
    await expect(checkRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')).resolves.toBeUndefined();
  });

  it('should say which Redis and where when nothing listens', async () => {
    await expect(checkRedis('redis://127.0.0.1:1')).rejects.toThrow(
      /^cannot reach Redis at 127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
  });
});

describe(redisOptionsFromUrl.name, () => {
  it('should read credentials, database and TLS from the URL', () => {
    expect(redisOptionsFromUrl('rediss://user:p%40ss@cache:6380/2')).toEqual({
      host: 'cache',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: {},
    });
  });
});
