import type { OnApplicationShutdown } from '@nestjs/common';
import type { Queue, Worker, DefaultJobOptions, Job, JobsOptions, JobType, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import {
  taskQueueName,
  type TaskQueueTarget,
  TaskJobSchema,
  WEBHOOK_QUEUE,
  WEBHOOK_REPLY_QUEUE,
  WebhookJobSchema,
  WebhookReplyJobSchema,
  WORKFLOW_QUEUE,
  WorkflowJobSchema,
  SCHEDULING_QUEUE,
  TaskEndedJobSchema,
} from '@hangar/contracts';
import { createRedis } from './redis-client';
import type { RedisSettings } from './redis.module';

// What consumers see of BullMQ, from here: bullmq has one home.
export type { Job, Worker as QueueWorker } from 'bullmq';
import type { Worker as QueueWorker } from 'bullmq';

// BullMQ (150 modules with its dependencies, ~6 MB of a process) loads when a service first
// makes a queue or a worker: the websocket-pool and the metrics service never do.
function bullmq(): typeof import('bullmq') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('bullmq') as typeof import('bullmq');
}

// Thrown by a job's processor that moved its job back to delayed (job.moveToDelayed): BullMQ
// then leaves the job alone instead of completing it.
export function delayedJob(): Error {
  return new (bullmq().DelayedError)();
}

export function isDelayedJob(error: unknown): boolean {
  return error instanceof bullmq().DelayedError;
}

// One durable queue: its name, the schema of its jobs' data (libs/contracts, as for every
// message), and how its jobs are kept and retried.
export interface QueueSpec<T> {
  name: string;
  schema: z.ZodType<T>;
  jobs: DefaultJobOptions;
}

const kept = { removeOnComplete: true, removeOnFail: 1000 } as const;

// The orchestrator's queues to the runners: one per runner pool, and one per runner for the
// tasks that must run where an earlier task's workspace is (docs/routing.md). One try: a lost
// run is the orchestrator's to detect (heartbeats) and retry through the task lifecycle, never
// BullMQ's.
export function taskQueueSpec(target: TaskQueueTarget): QueueSpec<z.infer<typeof TaskJobSchema>> {
  return { name: taskQueueName(target), schema: TaskJobSchema, jobs: { ...kept, attempts: 1 } };
}

// How often a delivery or a reply is tried when its provider fails, and how far apart.
export const WEBHOOK_DELIVERY_QUEUE_SPEC: QueueSpec<z.infer<typeof WebhookJobSchema>> = {
  name: WEBHOOK_QUEUE,
  schema: WebhookJobSchema,
  jobs: { ...kept, attempts: 3, backoff: { type: 'exponential', delay: 2000 } },
};
export const WEBHOOK_REPLY_QUEUE_SPEC: QueueSpec<z.infer<typeof WebhookReplyJobSchema>> = {
  name: WEBHOOK_REPLY_QUEUE,
  schema: WebhookReplyJobSchema,
  jobs: { ...kept, attempts: 5, backoff: { type: 'exponential', delay: 2000 } },
};

// The workflow engine's inbox. A decision that fails (the database away) is tried again; what
// a run waits for is in PostgreSQL, so a job lost after all tries is found by the reconciler.
export const WORKFLOW_QUEUE_SPEC: QueueSpec<z.infer<typeof WorkflowJobSchema>> = {
  name: WORKFLOW_QUEUE,
  schema: WorkflowJobSchema,
  jobs: { ...kept, attempts: 5, backoff: { type: 'exponential', delay: 500 } },
};

// Task ends, for the orchestrator's admission of waiting tasks (a lost one is made up for by
// the reconciler's pass).
export const SCHEDULING_QUEUE_SPEC: QueueSpec<z.infer<typeof TaskEndedJobSchema>> = {
  name: SCHEDULING_QUEUE,
  schema: TaskEndedJobSchema,
  jobs: { ...kept, attempts: 3, backoff: { type: 'exponential', delay: 500 } },
};

// Adds a queue's jobs, their data checked against its schema.
export class QueueProducer<T> {
  constructor(
    private readonly spec: QueueSpec<T>,
    private readonly queue: Queue,
  ) {}

  async add(jobName: string, data: T, options: JobsOptions = {}): Promise<void> {
    await this.queue.add(jobName, this.spec.schema.parse(data), options);
  }

  // Several jobs in one round trip.
  async addBulk(jobs: { name: string; data: T; opts?: JobsOptions }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((job) => ({ ...job, data: this.spec.schema.parse(job.data) })));
  }

  // A job already taken by a worker cannot be removed (it stays; the worker finds its task
  // changed and drops it); a job that does not exist is no error.
  async remove(jobId: string): Promise<void> {
    await this.queue.remove(jobId).catch(() => 0);
  }

  count(): Promise<number> {
    return this.queue.count();
  }

  // The ids of the jobs in these states.
  jobIds(states: JobType[]): Promise<string[]> {
    return this.queue.getRanges(states, 0, -1);
  }

  async getJob(jobId: string): Promise<Job<T> | undefined> {
    return ((await this.queue.getJob(jobId)) as Job<T> | undefined) ?? undefined;
  }
}

export type QueueProcessor<T, R> = (data: T, job: Job<T>, token?: string) => Promise<R>;

// Where every BullMQ queue and worker of a service is made, under `<prefix>:queue`, and closed:
// one connection for its producers, one (blocking) connection per worker, all closed with
// the service. The producers' connection may be the service's own (RedisModule's, closed by
// it): what a service tells on its topics and the jobs it adds after are then executed by
// Redis in the order it sent them, without waiting for the first to be answered. A job whose data does not match its queue's schema fails at once, unretried.
// RedisModule provides it.
export class Queues implements OnApplicationShutdown {
  private producerConnection: Redis | undefined;
  private closing: Promise<void> | undefined;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: { worker: { close(): Promise<void> }; connection: Redis }[] = [];

  constructor(
    private readonly settings: RedisSettings,
    private readonly sharedConnection?: Redis,
  ) {}

  private get prefix(): string {
    return `${this.settings.prefix}:queue`;
  }

  producer<T>(spec: QueueSpec<T>): QueueProducer<T> {
    let queue = this.queues.get(spec.name);
    if (!queue) {
      const connection =
        this.sharedConnection ?? (this.producerConnection ??= createRedis(this.settings.url));
      queue = new (bullmq().Queue)(spec.name, {
        connection,
        prefix: this.prefix,
        defaultJobOptions: spec.jobs,
      });
      this.queues.set(spec.name, queue);
    }
    return new QueueProducer(spec, queue);
  }

  consumer<T, R>(
    spec: QueueSpec<T>,
    processor: QueueProcessor<T, R>,
    options: Omit<Partial<WorkerOptions>, 'connection' | 'prefix'> = {},
  ): Worker<T, R> {
    const connection = createRedis(this.settings.url);
    const worker = new (bullmq().Worker)<T, R>(
      spec.name,
      (job, token) => {
        const parsed = spec.schema.safeParse(job.data);
        if (!parsed.success)
          throw new (bullmq().UnrecoverableError)(
            `job ${job.id} of ${spec.name} is malformed: ${parsed.error.message}`,
          );
        return processor(parsed.data, job, token);
      },
      { ...options, connection, prefix: this.prefix },
    );
    this.workers.push({ worker, connection });
    return worker;
  }

  // A worker made by `consumer` stops for good (a kubernetes executor that stops leading):
  // its jobs in flight end first, then its connection is closed.
  async release<T, R>(worker: QueueWorker<T, R>): Promise<void> {
    const index = this.workers.findIndex((entry) => entry.worker === worker);
    await worker.close();
    if (index === -1) return;
    const [released] = this.workers.splice(index, 1);
    await released?.connection.quit().catch(() => released.connection.disconnect());
  }

  // BullMQ leaves connections it was given open: they are ours to close, after the workers
  // (a caller may have closed its own earlier, with a grace period) and the queues. Once,
  // however often asked (RedisModule closes its connection after this).
  onApplicationShutdown(): Promise<void> {
    return (this.closing ??= this.close());
  }

  private async close(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.close()));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    const connections = this.workers.map(({ connection }) => connection);
    if (this.producerConnection) connections.push(this.producerConnection);
    await Promise.all(
      connections.map((connection) => connection.quit().catch(() => connection.disconnect())),
    );
  }
}
