import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Client } from 'pg';
import { STEP_ENDED_CHANNEL, StepEndedNoticeSchema } from '@hangar/contracts';
import { ORCHESTRATOR_CONFIG, type OrchestratorConfig } from '../../config';
import { WorkflowEngine } from './workflow-engine.service';
import { WorkflowMetrics } from './workflow.metrics';

// The advisory lock whoever listens holds, on its listening session (two int4 keys: Hangar's
// and this lock's, so nothing else's collides).
const LOCK = { space: 0x48414e47, id: 1 }; // "HANG", 1

// Hears a workflow step's task end from PostgreSQL as the change commits (NOTIFY from the tasks
// table's trigger), so the engine decides the next step without waiting for the lifecycle's
// job on the workflow queue: a round trip to Redis and a queue worker's wake less on the path
// from a step's end to its next task. The job stays the durable way (it is there when nobody
// listened, or the decision failed) and finds its end decided (WorkflowEngine.stepEnded).
// One orchestrator listens at a time, the one whose session holds an advisory lock: a step's
// end is then decided once, not once per orchestrator. The others try again every
// WORKFLOW_LISTEN_RETRY_MS, and one takes over when that session ends (its lock goes with it).
// A listener as busy as WORKFLOW_CONCURRENCY leaves the next ends to their jobs.
@Injectable()
export class StepEndListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StepEndListener.name);
  private client: Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private deciding = 0;
  // The attempt to listen in flight, and how many times this orchestrator started listening
  // (whenListening waits for the next).
  private attempt: Promise<void> = Promise.resolve();
  private started = 0;
  private readonly waiters: { after: number; resolve: () => void }[] = [];

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly metrics: WorkflowMetrics,
    @Inject(ORCHESTRATOR_CONFIG) private readonly config: OrchestratorConfig,
  ) {}

  // Whether this orchestrator is the one listening now.
  get listening(): boolean {
    return this.client !== undefined;
  }

  // How many times it started listening.
  get generation(): number {
    return this.started;
  }

  // Whether it listens once its attempt in flight is over.
  async settled(): Promise<boolean> {
    await this.attempt;
    return this.listening;
  }

  // Resolves once it starts listening for the (after + 1)th time.
  whenListening(after = 0): Promise<void> {
    if (this.started > after && this.listening) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ after, resolve }));
  }

  onApplicationBootstrap() {
    if (this.config.WORKFLOW_LISTEN) this.attempt = this.listen();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.DATABASE_URL });
    client.on('error', () => undefined); // (its end follows, and is handled below)
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        [LOCK.space, LOCK.id],
      );
      if (!rows[0]?.locked) {
        await client.end();
        return this.again();
      }
      client.on('notification', (message) => this.heard(message.payload));
      client.once('end', () => {
        if (this.client !== client) return;
        this.client = undefined;
        this.metrics.listening(false);
        this.logger.warn('no longer hearing step ends from PostgreSQL; their jobs decide them');
        this.again();
      });
      await client.query(`LISTEN ${STEP_ENDED_CHANNEL}`);
      if (this.stopped) return void (await client.end());
      this.client = client;
      this.started += 1;
      this.metrics.listening(true);
      this.logger.log("hearing workflow steps' ends from PostgreSQL");
      for (const waiter of this.waiters.splice(0))
        if (this.started > waiter.after) waiter.resolve();
        else this.waiters.push(waiter);
    } catch (error) {
      this.logger.warn(
        `cannot listen for step ends (${error instanceof Error ? error.message : String(error)}); their jobs decide them`,
      );
      await client.end().catch(() => undefined);
      this.again();
    }
  }

  private again(): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => {
      this.attempt = this.listen();
    }, this.config.WORKFLOW_LISTEN_RETRY_MS);
    this.retry.unref();
  }

  private heard(payload: string | undefined): void {
    let notice;
    try {
      notice = StepEndedNoticeSchema.parse(JSON.parse(payload ?? ''));
    } catch {
      this.logger.warn(`a step end notice that is not one was ignored: ${String(payload).slice(0, 200)}`);
      return;
    }
    if (this.deciding >= this.config.WORKFLOW_CONCURRENCY) return;
    this.deciding += 1;
    const task = 'task' in notice ? notice.task : { id: notice.taskId, status: notice.status };
    this.engine
      .stepEnded(notice.runId, task, 'notice')
      .catch((error: unknown) =>
        this.logger.warn(
          `step end of task ${task.id} (run ${notice.runId}) not decided yet, its job will: ${error instanceof Error ? error.message : String(error)}`,
        ),
      )
      .finally(() => (this.deciding -= 1));
  }
}
