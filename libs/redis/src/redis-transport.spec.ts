import { randomUUID } from 'node:crypto';
import { lastValueFrom, timeout } from 'rxjs';
import { redisOptionsFromUrl } from './redis-client';
import { PrefixedClientRedis, PrefixedServerRedis } from './redis-transport';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function serverAnswering(prefix: string, answer: string): Promise<PrefixedServerRedis> {
  const server = new PrefixedServerRedis(redisOptionsFromUrl(url), prefix);
  server.addHandler('tasks.cancel', async () => answer, false);
  await new Promise<void>((resolve, reject) =>
    server.listen((error?: unknown) =>
      error ? reject(error instanceof Error ? error : new Error('listen failed')) : resolve(),
    ),
  );
  return server;
}

describe(PrefixedServerRedis.name, () => {
  it('should only answer requests sent with its own prefix when two installations share a Redis', async () => {
    const [first, second] = [`a-${randomUUID()}:`, `b-${randomUUID()}:`];
    const servers = [await serverAnswering(first, 'first'), await serverAnswering(second, 'second')];
    const clients = [first, second].map(
      (channelPrefix) => new PrefixedClientRedis({ ...redisOptionsFromUrl(url), channelPrefix }),
    );
    try {
      for (let round = 0; round < 5; round++) {
        const answers = await Promise.all(
          clients.map((client) =>
            lastValueFrom(client.send<string>('tasks.cancel', { round }).pipe(timeout(3000))),
          ),
        );
        expect(answers).toEqual(['first', 'second']);
      }
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all(servers.map((server) => server.close()));
    }
  });
});
