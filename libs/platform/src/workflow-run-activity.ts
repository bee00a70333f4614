import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RunChanges, Topic, WorkflowRunActivity as RunActivityEntry } from '@hangar/contracts';
import { WorkflowRunRepository } from '@hangar/db';
import { TopicStreams } from '@hangar/redis';
import { LIFECYCLE_SETTINGS, type LifecycleSettings } from './task-lifecycle';

// What workflow-run subscribers see: after each decision the engine stored, every step row it
// wrote as GET /api/v1/workflow-runs/:id shows it now (`step.status`), then the run's status,
// error, outputs and cost when they changed (`run.status`). A finished run's stream expires
// like a finished task's.
@Injectable()
export class WorkflowRunActivity {
  private readonly logger = new Logger(WorkflowRunActivity.name);

  constructor(
    private readonly topics: TopicStreams,
    private readonly runs: WorkflowRunRepository,
    @Inject(LIFECYCLE_SETTINGS) private readonly settings: LifecycleSettings,
  ) {}

  // Called once the decision is committed: nothing is told before it is stored.
  async decided(runId: string, changes: RunChanges): Promise<void> {
    const keys = new Set(changes.steps.map((step) => step.key));
    const runChanged = changes.run?.status !== undefined || changes.run?.costUsd !== undefined;
    if (keys.size === 0 && !runChanged) return;
    const topic: Topic = `workflow-run:${runId}`;
    try {
      // Read back with the run locked: two decisions of one run told at once are told in turn,
      // each with the state after both, so the last word on a step or on the run is the latest.
      await this.runs.whileLocked(runId, async (run) => {
        const steps = new Map(run.steps.map((step) => [step.key, step]));
        const entries: RunActivityEntry[] = [];
        for (const key of keys) {
          const step = steps.get(key);
          if (step) entries.push({ type: 'step.status', data: step });
        }
        const finished = run.status !== 'RUNNING';
        // A finished run's topic ends with its status, even when a decision taken before the
        // last one is told after it.
        if (runChanged || finished)
          entries.push({
            type: 'run.status',
            data: { status: run.status, error: run.error, outputs: run.outputs, costUsd: run.costUsd },
          });
        await this.topics.append(topic, entries);
        if (finished) await this.topics.expire(topic, this.settings.STREAM_RETENTION_SECONDS);
      });
    } catch (error) {
      // The decision is stored (Postgres holds the truth, REST shows it): a Redis hiccup costs
      // live watchers an update, never the change.
      this.logger.warn(
        `activity of workflow run ${runId} not published: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
