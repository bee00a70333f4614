import type { WorkflowStepRun } from '@hangar/contracts';
import type { ConsoleIo } from '../output/console-io';
import { LiveBlock } from '../output/live-block';
import { formatRunHeader, formatRunSummary, formatStepChange, formatStepTable } from './workflow-run-render';
import type { WorkflowRunState } from './workflow-run-state';

// What `hangar workflow run --follow` shows while a run goes. On a terminal, the steps as a table
// drawn over itself at each change; elsewhere (a pipe, a log, CI) one plain line per change of a
// step's status, attempt or loop iteration, as tasks are followed; with --json, each changed
// step as a JSON line, then the run.
export class WorkflowRunProgress {
  private readonly live: LiveBlock | undefined;
  private readonly shown = new Map<string, string>();

  constructor(
    private readonly state: WorkflowRunState,
    private readonly io: ConsoleIo,
    private readonly json = false,
  ) {
    this.live = !json && io.terminal ? new LiveBlock(io.terminal) : undefined;
  }

  start(): void {
    if (!this.json) this.io.out(formatRunHeader(this.state.run, this.io.outPalette));
    this.changed(this.state.steps);
  }

  changed(steps: WorkflowStepRun[]): void {
    if (steps.length === 0) return;
    if (this.json) {
      for (const step of steps) this.io.out(JSON.stringify(step));
      return;
    }
    if (this.live) return this.redraw();
    for (const step of steps) {
      const signature = `${step.status}/${step.attempt}/${step.iteration ?? ''}`;
      if (this.shown.get(step.key) === signature) continue;
      this.shown.set(step.key, signature);
      this.io.out(formatStepChange(step, this.state.run.id, this.io.outPalette, this.state.steps));
    }
  }

  // A message on stderr, on a terminal printed where the table was and the table drawn below it.
  notice(message: string): void {
    this.live?.clear();
    this.io.err(this.io.errPalette.dim(message));
    if (this.live) this.redraw();
  }

  finish(): void {
    const run = this.state.run;
    if (this.json) {
      this.io.out(JSON.stringify(run));
      return;
    }
    if (this.live) this.redraw();
    for (const line of formatRunSummary(run, this.io.outPalette)) this.io.out(line);
  }

  private redraw(): void {
    const terminal = this.io.terminal!;
    this.live!.update(
      formatStepTable(this.state, this.io.outPalette, {
        width: terminal.columns() - 1,
        maxRows: Math.max(3, terminal.rows() - 2),
      }),
    );
  }
}
