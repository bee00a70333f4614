import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, REDIS_SETTINGS, type RedisSettings } from '@hangar/redis';

// Wakes a warm pod's wait for an assignment (the task API) as soon as the controller gives its Job
// an attempt: at once in the controller's own process, and on every other replica (the pod's wait
// may be held by any) through a Redis channel. A wait also looks in the database now and then, so a
// message lost with a Redis hiccup only delays it.
@Injectable()
export class WarmAssignments implements OnApplicationShutdown {
  private readonly logger = new Logger(WarmAssignments.name);
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly channel: string;
  // Made at the first wait: a replica no warm pod waits on (a process runner) holds no connection.
  private subscriber: Redis | undefined;
  // Settled once this replica hears the channel (or could not subscribe: then only the database
  // look answers its waits).
  private subscribed: Promise<void> | undefined;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SETTINGS) settings: RedisSettings,
  ) {
    this.channel = `${settings.prefix}:warm-assigned`;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  assigned(jobName: string): void {
    this.wake(jobName);
    this.redis
      .publish(this.channel, jobName)
      .catch((error: unknown) =>
        this.logger.warn(`could not tell the replicas of ${jobName}: ${String(error)}`),
      );
  }

  // Resolves when `jobName` is given an attempt, after `ms`, or when `signal` aborts.
  wait(jobName: string, ms: number, signal: AbortSignal): Promise<void> {
    void this.listening();
    return new Promise((resolve) => {
      const waiters = this.waiters.get(jobName) ?? new Set();
      this.waiters.set(jobName, waiters);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(jobName) === waiters) this.waiters.delete(jobName);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      waiters.add(done);
    });
  }

  private wake(jobName: string): void {
    for (const wake of this.waiters.get(jobName) ?? []) wake();
  }

  // Settles once every assignment made from now on wakes this replica's waits (or it could not
  // subscribe): a wait that looks in the database after this misses none.
  listening(): Promise<void> {
    if (this.subscribed) return this.subscribed;
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, jobName: string) => this.wake(jobName));
    this.subscribed = subscriber.subscribe(this.channel).then(
      () => undefined,
      (error: unknown) => this.logger.warn(`could not hear of assignments: ${String(error)}`),
    );
    return this.subscribed;
  }
}
