import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { TaskJob } from '@hangar/contracts';
import type { Job } from '@hangar/redis';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import type { TaskExecutor } from '../intake/task-executor';
import { TaskIntake } from '../intake/task-intake.service';
import { TaskRunService } from './task-run.service';
import { WarmPool } from './warm-pool';

// The process executor: runs each attempt's agent CLI as a child process of this runner, as
// many at once as the runner has slots.
@Injectable()
export class TaskWorkerService implements TaskExecutor, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly kind = 'process' as const;
  private readonly logger = new Logger(TaskWorkerService.name);
  // Attempts taken here that have not ended yet (their agents may have: \`take\`).
  private readonly finishing = new Set<Promise<void>>();
  // Jobs holding a slot: taken, and their agent not ended yet (what routing weighs as running).
  private inSlots = 0;

  constructor(
    private readonly runs: TaskRunService,
    private readonly intake: TaskIntake,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
    @Optional() private readonly warm?: WarmPool,
  ) {
    // Routing reads what this runner keeps warm: told as it changes (and its slots: occupySlot).
    warm?.onChange(() => this.intake.changed());
  }

  get concurrency(): number {
    return this.config.RUNNER_SLOTS;
  }

  capacity(): { slots: number; running: number; warm?: Record<string, number> } {
    return {
      slots: this.config.RUNNER_SLOTS,
      running: this.inSlots,
      ...(this.warm ? { warm: this.warm.readyByProfile() } : {}),
    };
  }

  async onApplicationBootstrap() {
    await this.intake.open(this);
  }

  // A slot is an agent CLI (RUNNER_SLOTS): it is free for the next job as soon as the attempt's
  // agent has exited, while the attempt's check, diff, push and end are still being recorded
  // (its task RUNNING until then) — the next task's claim and CLI start overlap them instead of
  // waiting. The job's value is then `agent-ended`; how the task ended is the task's.
  async take(job: Job<TaskJob>): Promise<string> {
    const { taskId, attempt, trace } = job.data;
    let freed = false;
    let agentEnded!: () => void;
    const slotFree = new Promise<'agent-ended'>(
      (resolve) =>
        (agentEnded = () => {
          freed = true;
          resolve('agent-ended');
        }),
    );
    const run = this.runs.runAttempt(taskId, attempt, agentEnded, trace);
    // An error before the slot was freed fails the job (BullMQ's `failed`, logged by the intake);
    // one after it is logged here.
    const settled = run.then(
      () => undefined,
      (error: unknown) => {
        if (freed)
          this.logger.error({ err: error, taskId }, `task ${taskId} attempt ${attempt} failed to end`);
      },
    );
    this.finishing.add(settled);
    void settled.finally(() => this.finishing.delete(settled));
    this.occupySlot(+1);
    try {
      const first = await Promise.race([run, slotFree]);
      if (first === 'agent-ended') return first;
      if (!first.claimed) return 'skipped: task is no longer waiting for this attempt';
      return first.finished?.status ?? 'taken-over';
    } finally {
      this.occupySlot(-1);
    }
  }

  // Routing reads how many slots are taken (capacity's `running`): told as it changes.
  private occupySlot(change: 1 | -1): void {
    this.inSlots += change;
    this.intake.changed();
  }

  // SIGTERM: take no new work; running tasks get a grace period, then go back to the queue.
  // Before shutdown (not on it): the database, Redis and heartbeats must still serve the
  // runs that finish or are requeued meanwhile; Nest closes them in onApplicationShutdown.
  async beforeApplicationShutdown() {
    // The jobs in flight, then the attempts whose agents ended and that are still finishing.
    const closing = this.intake.close().then(() => Promise.all(this.finishing));
    const grace = new Promise<'grace-over'>((resolve) =>
      setTimeout(() => resolve('grace-over'), this.config.RUNNER_SHUTDOWN_GRACE_MS).unref(),
    );
    if ((await Promise.race([closing.then(() => 'closed' as const), grace])) === 'grace-over') {
      this.logger.warn(`grace period over: requeuing ${this.runs.runningTaskIds().length} running task(s)`);
      for (const taskId of this.runs.runningTaskIds()) this.runs.cancel(taskId, 'shutdown');
      await closing;
    }
  }
}
