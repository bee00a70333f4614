import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BudgetCounters } from './budget-counters';
import { CredentialPools } from './credential-pools';
import { MetricRecordStream } from './metric-records';
import { Queues } from './queues';
import { createRedis } from './redis-client';
import { RunnerRegistry } from './runner-registry';
import { TaskEventStream } from './task-event-stream';
import { TopicStreams } from './topic-streams';

export const REDIS = Symbol('REDIS');
export const REDIS_SETTINGS = Symbol('REDIS_SETTINGS');

export interface RedisSettings {
  url: string;
  // Namespaces every key Hangar writes (streams, queue), so installations and test runs can share a Redis.
  prefix: string;
}

// The service's connection closes last: the queues' producers use it, and their workers'
// jobs in flight may still tell on its topics.
class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queues: Queues,
  ) {}

  async onApplicationShutdown() {
    await this.queues.onApplicationShutdown();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Module({})
export class RedisModule {
  static forRoot(settings: RedisSettings): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        { provide: REDIS_SETTINGS, useValue: settings },
        { provide: REDIS, useFactory: () => createRedis(settings.url) },
        RedisLifecycle,
        { provide: Queues, inject: [REDIS], useFactory: (redis: Redis) => new Queues(settings, redis) },
        {
          provide: TaskEventStream,
          inject: [REDIS],
          useFactory: (redis: Redis) => new TaskEventStream(redis, { prefix: settings.prefix }),
        },
        {
          provide: RunnerRegistry,
          inject: [REDIS],
          useFactory: (redis: Redis) => new RunnerRegistry(redis, { prefix: settings.prefix }),
        },
        {
          provide: BudgetCounters,
          inject: [REDIS],
          useFactory: (redis: Redis) => new BudgetCounters(redis, { prefix: settings.prefix }),
        },
        {
          provide: CredentialPools,
          inject: [REDIS],
          useFactory: (redis: Redis) => new CredentialPools(redis, { prefix: settings.prefix }),
        },
        {
          provide: MetricRecordStream,
          inject: [REDIS],
          useFactory: (redis: Redis) => new MetricRecordStream(redis, { prefix: settings.prefix }),
        },
        {
          provide: TopicStreams,
          inject: [REDIS, TaskEventStream],
          useFactory: (redis: Redis, tasks: TaskEventStream) =>
            new TopicStreams(redis, tasks, { prefix: settings.prefix }),
        },
      ],
      exports: [
        REDIS,
        REDIS_SETTINGS,
        TaskEventStream,
        TopicStreams,
        Queues,
        RunnerRegistry,
        BudgetCounters,
        CredentialPools,
        MetricRecordStream,
      ],
    };
  }
}
