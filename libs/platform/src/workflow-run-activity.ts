import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  DecisionTold,
  RunChanges,
  Topic,
  WorkflowRun,
  WorkflowRunActivity as RunActivityEntry,
  WorkflowStepRun,
} from '@hangar/contracts';
import { WorkflowRunRepository } from '@hangar/db';
import { TopicStreams } from '@hangar/redis';
import { LIFECYCLE_SETTINGS, type LifecycleSettings } from './task-lifecycle';

// What workflow-run subscribers see: after each decision the engine stored, every step row it
// wrote as GET /api/v1/workflow-runs/:id shows it (`step.status`), then the run's status,
// error, outputs and cost when they changed (`run.status`), in the order the decisions were
// taken. A finished run's stream expires like a finished task's.
@Injectable()
export class WorkflowRunActivity {
  private readonly logger = new Logger(WorkflowRunActivity.name);

  constructor(
    private readonly topics: TopicStreams,
    private readonly runs: WorkflowRunRepository,
    @Inject(LIFECYCLE_SETTINGS) private readonly settings: LifecycleSettings,
  ) {}

  // Called once the decision is stored: nothing is told before it is. `told` (what the decision
  // wrote, numbered by the run's count of decisions) is told as it is, unless a later decision
  // of the run was told first; then, and without `told`, the run is read as it is now and told
  // so — again while decisions later than that read are told meanwhile — so the last word on a
  // step or on the run is always the latest.
  async decided(runId: string, changes: RunChanges, told?: DecisionTold): Promise<void> {
    const keys = new Set(changes.steps.map((step) => step.key));
    const runChanged = changes.run?.status !== undefined || changes.run?.costUsd !== undefined;
    if (keys.size === 0 && !runChanged) return;
    const topic: Topic = `workflow-run:${runId}`;
    try {
      let appended =
        told !== undefined &&
        (await this.topics.appendVersion(
          topic,
          told.decision,
          'newer',
          this.entries(told.steps, told.run, runChanged),
        ));
      let status = told?.run.status;
      while (!appended) {
        const current = await this.runs.current(runId);
        if (!current) return;
        const steps = current.run.steps.filter((step) => keys.has(step.key));
        status = current.run.status;
        appended = await this.topics.appendVersion(
          topic,
          current.decisions,
          'current',
          this.entries(steps, current.run, runChanged),
        );
      }
      if (status !== 'RUNNING') await this.topics.expire(topic, this.settings.STREAM_RETENTION_SECONDS);
    } catch (error) {
      // The decision is stored (Postgres holds the truth, REST shows it): a Redis hiccup costs
      // live watchers an update, never the change.
      this.logger.warn(
        `activity of workflow run ${runId} not published: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  // The steps, then the run's status, error, outputs and cost when they changed — and always
  // once it has finished: a finished run's topic ends with its status, even when a decision
  // taken before the last one is told after it.
  private entries(
    steps: readonly WorkflowStepRun[],
    run: Pick<WorkflowRun, 'status' | 'error' | 'outputs' | 'costUsd'>,
    runChanged: boolean,
  ): RunActivityEntry[] {
    const entries: RunActivityEntry[] = steps.map((step) => ({ type: 'step.status', data: step }));
    if (runChanged || run.status !== 'RUNNING')
      entries.push({
        type: 'run.status',
        data: { status: run.status, error: run.error, outputs: run.outputs, costUsd: run.costUsd },
      });
    return entries;
  }
}
