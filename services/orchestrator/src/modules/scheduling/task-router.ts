import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DEFAULT_POOL,
  jobIdOf,
  QUEUE_PRIORITY,
  storedTarget,
  targetOfStored,
  type RunnerRecord,
  type TaskJob,
  type TaskQueueTarget,
  type TraceContext,
} from '@hangar/contracts';
import { type AdmittedTask, TaskAdmission } from '@hangar/db';
import {
  isLive,
  offers,
  performanceWeights,
  PoolChooser,
  poolsOf,
  unsatisfiedReason,
  type PoolLoad,
  type PoolOffer,
  type PoolRecord,
  TaskLifecycle,
} from '@hangar/platform';
import { type QueueProducer, Queues, RunnerRegistry, taskQueueSpec } from '@hangar/redis';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from '../../config';

// How many tasks' chosen pools a router remembers (routedLately): far more than a pass routes.
const ROUTED_LATELY = 10_000;
// How long a profile's history by pool (the performance strategy) is reused.
const HISTORY_TTL_MS = 30_000;
// How far back that history looks.
const HISTORY_WINDOW_MS = 24 * 3600 * 1000;

// What one routing pass sees: the runners as registered now, the pools' loads as far as they
// were needed (read once a pass), and the tasks this pass put on each pool.
export interface RoutingPass {
  records: RunnerRecord[];
  now: number;
  known: PoolOffer[];
  live: PoolOffer[];
  loads: Map<string, number>;
  added: Map<string, number>;
  // Sent this pass to a runner's own queue for its warm CLIs: by runner, and by
  // `<runner> <profile id>`.
  toRunner: Map<string, number>;
  warmTaken: Map<string, number>;
}

// Where each admitted task runs (docs/routing.md): the queue of a runner pool that offers what
// it requires, chosen by its workflow's, its project's or the installation's strategy; or, for a
// task working in an earlier task's workspace, the queue of the runner holding that workspace.
// A task no known runner could ever take fails (`unroutable`); one no live runner can take now
// waits, admitted, until a runner registers or the reconciler passes. The target is recorded
// (tasks.pool), so a retry or a reconciler's pass keeps it.
@Injectable()
export class TaskRouter {
  private readonly logger = new Logger(TaskRouter.name);
  private readonly chooser = new PoolChooser();
  private readonly history = new Map<string, { at: number; records: PoolRecord[] }>();
  // The trace each task's job is sent in while a handler of that task waits on its routing
  // (`tracing`); any other task's job carries the trace it was created in (tasks.trace).
  private readonly traces = new Map<string, TraceContext>();
  // Where this router's strategy sent each task it routed lately (the last ROUTED_LATELY), from
  // the moment it chose: a pass that read a task before its target was recorded (the
  // reconciler's, running beside a created message's) keeps it there instead of taking another
  // turn of the rotation for it (which sent the next task where this one went).
  private readonly routedLately = new Map<string, string>();

  constructor(
    private readonly queues: Queues,
    private readonly registry: RunnerRegistry,
    private readonly admission: TaskAdmission,
    private readonly lifecycle: TaskLifecycle,
    @Inject(ORCHESTRATOR_CONFIG) private readonly config: OrchestratorConfig,
  ) {}

  // While `work` runs, a job this router adds for `taskId` is sent in `trace` (a handler's span:
  // the passes that queue a task are shared by every task of its project, so the trace is the
  // task's own, not the pass's).
  async tracing<T>(taskId: string, trace: TraceContext | undefined, work: () => Promise<T>): Promise<T> {
    if (!trace) return work();
    this.traces.set(taskId, trace);
    try {
      return await work();
    } finally {
      if (this.traces.get(taskId) === trace) this.traces.delete(taskId);
    }
  }

  // `looked`: the runners as a caller read them while it did something else (`look`).
  async route(tasks: readonly AdmittedTask[], looked?: Promise<RoutingPass>): Promise<void> {
    if (tasks.length === 0) return;
    const pass = await (looked ?? this.look());
    const routed: { task: AdmittedTask; target: TaskQueueTarget }[] = [];
    for (const read of tasks) {
      const task = read.pool ? read : { ...read, pool: this.routedLately.get(read.id) ?? null };
      const target = await this.targetOf(task, pass);
      if (target) routed.push({ task, target });
    }
    const byQueue = new Map<string, { target: TaskQueueTarget; tasks: AdmittedTask[] }>();
    for (const { task, target } of routed) {
      const key = storedTarget(target);
      byQueue.set(key, { target, tasks: [...(byQueue.get(key)?.tasks ?? []), task] });
    }
    for (const { target, tasks: queued } of byQueue.values())
      await this.producer(target).addBulk(
        queued.map((task) => ({
          name: 'run',
          data: {
            taskId: task.id,
            attempt: task.attempts + 1,
            provider: task.provider,
            ...this.traceOf(task),
          },
          opts: { jobId: jobIdOf(task.id, task.attempts + 1), priority: QUEUE_PRIORITY[task.priority] },
        })),
      );
    // Moved from a pool that no longer fits (its runners gone, or none had registered when it was
    // first routed): its job there is taken away, so that queue's depth says what waits on it.
    for (const { task, target } of routed)
      if (task.pool && task.pool !== storedTarget(target))
        await this.producer(targetOfStored(task.pool)).remove(jobIdOf(task.id, task.attempts + 1));
    // Recorded once queued (off the path from a step's end to its next task's job): a crash in
    // between leaves the task unrecorded, and the reconciler routes it again (a second job in
    // another pool is harmless: the first claim takes the attempt, the other finds it taken).
    await this.admission.routed(
      routed.map(({ task, target }) => ({ id: task.id, pool: storedTarget(target) })),
    );
  }

  // A job already taken by a runner cannot be removed; the runner then finds the task
  // CANCELLED and drops it.
  async remove(taskId: string, attempt: number, pool: string | null): Promise<void> {
    if (pool) await this.producer(targetOfStored(pool)).remove(jobIdOf(taskId, attempt));
  }

  // Jobs waiting for a runner, by pool (known pools and the default one).
  async depths(): Promise<Map<string, number>> {
    const pools = new Set([DEFAULT_POOL, ...(await this.registry.all()).map((record) => record.pool)]);
    const depths = new Map<string, number>();
    for (const pool of pools) depths.set(pool, await this.producer({ pool }).count());
    return depths;
  }

  // The runners as registered now (one read), for routing tasks soon.
  async look(): Promise<RoutingPass> {
    const now = Date.now();
    const records = await this.registry.all(now);
    return {
      records,
      now,
      known: poolsOf(records),
      live: poolsOf(records.filter((record) => isLive(record, now))),
      loads: new Map(),
      added: new Map(),
      toRunner: new Map(),
      warmTaken: new Map(),
    };
  }

  private async targetOf(task: AdmittedTask, pass: RoutingPass): Promise<TaskQueueTarget | null> {
    // No runner has registered at all (a fresh installation, runners starting): nothing is
    // known to refuse or to choose by.
    if (pass.records.length === 0) return task.requires.length === 0 ? { pool: DEFAULT_POOL } : null;
    if (task.workspaceOf) return this.workspaceTarget(task, pass);
    const needs = { requires: task.requires, provider: task.provider };
    const candidates = pass.live.filter((pool) => offers(pool, needs));
    if (candidates.length === 0) {
      if (!pass.known.some((pool) => offers(pool, needs)))
        await this.unroutable(task, unsatisfiedReason(pass.known, needs));
      return null;
    }
    const warm = this.warmRunner(task, candidates, pass);
    if (warm) return warm;
    // Routed before (a retry, a reconciler's pass) to a pool that still fits: it stays there.
    const kept = candidates.find((pool) => pool.name === task.pool);
    if (kept) return this.onto(kept.name, pass);
    // One pool can take it: every strategy chooses that one, and no load needs reading.
    if (candidates.length === 1) return this.onto(candidates[0]!.name, pass);
    const loads: PoolLoad[] = [];
    for (const pool of candidates)
      loads.push({
        name: pool.name,
        labels: pool.labels,
        slots: pool.slots,
        load: await this.load(pool, pass),
      });
    const strategy = task.strategy ?? this.config.ROUTING_STRATEGY;
    const weights =
      strategy === 'performance'
        ? performanceWeights(
            loads.map((pool) => pool.name),
            await this.poolRecords(task.profileId),
          )
        : undefined;
    const chosen = this.chooser.choose(strategy, task.scope, loads, task.requires, weights).name;
    this.routedLately.delete(task.id);
    this.routedLately.set(task.id, chosen);
    const oldest = this.routedLately.keys().next();
    if (this.routedLately.size > ROUTED_LATELY && !oldest.done) this.routedLately.delete(oldest.value);
    return this.onto(chosen, pass);
  }

  // A first attempt of a profile that a live runner of these pools keeps warm CLIs of
  // (docs/performance.md) goes to that runner's own queue while it has a free slot: it starts
  // there warm rather than cold on whichever runner of the pool takes it first. Counted down
  // within the pass; the runner registers again as soon as it takes one.
  private warmRunner(task: AdmittedTask, candidates: PoolOffer[], pass: RoutingPass): TaskQueueTarget | null {
    if (task.attempts > 0) return null;
    const pools = new Set(candidates.map((pool) => pool.name));
    for (const record of pass.records) {
      if (record.executor !== 'process' || !pools.has(record.pool) || !isLive(record, pass.now)) continue;
      const key = `${record.id} ${task.profileId}`;
      const taken = pass.warmTaken.get(key) ?? 0;
      const sent = pass.toRunner.get(record.id) ?? 0;
      if ((record.warm?.[task.profileId] ?? 0) <= taken || record.running + sent >= record.slots) continue;
      pass.warmTaken.set(key, taken + 1);
      pass.toRunner.set(record.id, sent + 1);
      return { runner: record.id };
    }
    return null;
  }

  private onto(pool: string, pass: RoutingPass): TaskQueueTarget {
    pass.added.set(pool, (pass.added.get(pool) ?? 0) + 1);
    return { pool };
  }

  // The runner that ran the task whose workspace this one works in: its own queue, while it runs.
  private async workspaceTarget(task: AdmittedTask, pass: RoutingPass): Promise<TaskQueueTarget | null> {
    const holder = pass.records.find((record) => record.id === task.workspaceRunner);
    if (holder && isLive(holder, pass.now) && holder.executor === 'process') {
      const needs = { requires: task.requires, provider: task.provider };
      if (offers(holder, needs)) return { runner: holder.id };
      await this.unroutable(
        task,
        `task ${task.workspaceOf}'s workspace is on runner ${holder.id}, and ${unsatisfiedReason(poolsOf([holder]), needs)}`,
      );
      return null;
    }
    await this.unroutable(
      task,
      `task ${task.workspaceOf}'s workspace is on runner ${task.workspaceRunner ?? '(none: it never ran)'}, which is not running (a shared workspace stays where it was made)`,
    );
    return null;
  }

  private async unroutable(task: AdmittedTask, reason: string): Promise<void> {
    const failed = await this.lifecycle.failUnstarted(task.id, task.attempts + 1, `unroutable: ${reason}`);
    if (failed) this.logger.warn(`task ${task.id} failed: unroutable: ${reason}`);
  }

  // Attempts running in the pool plus jobs waiting on its queue, counting this pass's own.
  private async load(pool: PoolOffer, pass: RoutingPass): Promise<number> {
    let load = pass.loads.get(pool.name);
    if (load === undefined) {
      load = pool.running + (await this.producer({ pool: pool.name }).count());
      pass.loads.set(pool.name, load);
    }
    return load + (pass.added.get(pool.name) ?? 0);
  }

  private async poolRecords(profileId: string): Promise<PoolRecord[]> {
    const cached = this.history.get(profileId);
    if (cached && cached.at > Date.now() - HISTORY_TTL_MS) return cached.records;
    const records = await this.admission.poolRecords(profileId, new Date(Date.now() - HISTORY_WINDOW_MS));
    this.history.set(profileId, { at: Date.now(), records });
    return records;
  }

  private traceOf(task: AdmittedTask): { trace?: TraceContext } {
    const trace = this.traces.get(task.id) ?? task.trace;
    return trace ? { trace } : {};
  }

  // Queues keeps one BullMQ queue per name: a handle per call costs nothing.
  private producer(target: TaskQueueTarget): QueueProducer<TaskJob> {
    return this.queues.producer(taskQueueSpec(target));
  }
}
