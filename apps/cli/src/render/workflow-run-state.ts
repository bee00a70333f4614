import type {
  WorkflowDefinition,
  WorkflowRun,
  WorkflowRunActivity,
  WorkflowStepRun,
  WorkflowStepStatus,
} from '@hangar/contracts';

type RunStatusData = Extract<WorkflowRunActivity, { type: 'run.status' }>['data'];

// How far a step has come: a step only moves forward — a later attempt, a later iteration of a
// loop, and within those RUNNING, then WAITING (an approval, or a failed try waiting for its
// retry), then an end. The same change told twice (the topic's backlog, then a read of the run)
// or out of order (a read, then an older event) never moves what is shown backwards.
function progressOf(step: WorkflowStepRun): [number, number, number] {
  return [step.attempt, step.iteration ?? 0, STATUS_RANK[step.status]];
}

const STATUS_RANK: Record<WorkflowStepStatus, number> = {
  RUNNING: 0,
  WAITING: 1,
  COMPLETED: 2,
  FAILED: 2,
  SKIPPED: 2,
  CANCELLED: 2,
};

function compare(left: [number, number, number], right: [number, number, number]): number {
  for (let index = 0; index < left.length; index++) {
    const difference = left[index]! - right[index]!;
    if (difference !== 0) return difference;
  }
  return 0;
}

// A workflow run as the CLI shows it while it goes: its steps by key, kept at their newest.
export class WorkflowRunState {
  private current: WorkflowRun;
  private readonly byKey = new Map<string, WorkflowStepRun>();

  constructor(
    run: WorkflowRun,
    // The definition of the run's version, when it could be read: it orders the steps and shows
    // those not started yet.
    readonly definition?: WorkflowDefinition,
  ) {
    this.current = { ...run, steps: [] };
    for (const step of run.steps) this.byKey.set(step.key, step);
  }

  get run(): WorkflowRun {
    return { ...this.current, steps: this.steps };
  }

  get steps(): WorkflowStepRun[] {
    return [...this.byKey.values()];
  }

  step(key: string): WorkflowStepRun | undefined {
    return this.byKey.get(key);
  }

  get ended(): boolean {
    return this.current.status !== 'RUNNING';
  }

  // Keeps the step unless what is shown is further along; answers whether it took it.
  applyStep(step: WorkflowStepRun): boolean {
    const known = this.byKey.get(step.key);
    if (known && compare(progressOf(step), progressOf(known)) < 0) return false;
    if (known && JSON.stringify(known) === JSON.stringify(step)) return false;
    this.byKey.set(step.key, step);
    return true;
  }

  applyRunStatus(data: RunStatusData): boolean {
    if (this.ended && data.status === 'RUNNING') return false;
    const next = {
      ...this.current,
      status: data.status,
      error: data.error,
      outputs: data.outputs,
      costUsd: Math.max(this.current.costUsd, data.costUsd),
    };
    const changed = JSON.stringify(next) !== JSON.stringify(this.current);
    this.current = next;
    return changed;
  }

  applyActivity(activity: WorkflowRunActivity): WorkflowStepRun[] {
    if (activity.type === 'step.status') return this.applyStep(activity.data) ? [activity.data] : [];
    this.applyRunStatus(activity.data);
    return [];
  }

  // A whole read of the run: answers the steps that changed.
  applyRun(run: WorkflowRun): WorkflowStepRun[] {
    const changed = run.steps.filter((step) => this.applyStep(step));
    if (!(this.ended && run.status === 'RUNNING')) {
      const { steps: _steps, ...rest } = run;
      this.current = { ...rest, steps: [], costUsd: Math.max(this.current.costUsd, run.costUsd) };
    }
    return changed;
  }
}
