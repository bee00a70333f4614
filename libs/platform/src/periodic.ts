import { Logger } from '@nestjs/common';

// Work done now and then every `intervalMs` after the previous run ended (never two at once),
// until stopped; `stop` waits for a run in progress. A failed run is logged, not fatal.
export class Periodic {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
  ) {
    this.logger = new Logger(name);
  }

  start() {
    this.stopped = false;
    this.running = this.work()
      .catch((error: unknown) => this.logger.error({ err: error }, `${this.name} failed`))
      .finally(() => {
        // (Not once stop began: this may end while stop waits for it.)
        if (!this.stopped) this.timer = setTimeout(() => this.start(), this.intervalMs);
      });
  }

  // Resolves once the run in progress (if any) has ended.
  async idle(): Promise<void> {
    await this.running;
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

// Work done when asked, one run at a time: asked while a run is under way, it runs once more after
// that run (however often it was asked meanwhile), so the last ask is always served by a run that
// began after it. A failed run is logged (run) or answered (ask), not fatal.
export class OnDemand {
  private readonly logger: Logger;
  private running: Promise<void> | undefined;
  // The run asked for while one is under way, and its askers' wait.
  private again: { done: Promise<void>; start: () => void } | undefined;

  constructor(
    private readonly name: string,
    private readonly work: () => Promise<void>,
  ) {
    this.logger = new Logger(name);
  }

  run(): void {
    if (this.again) return; // asked for already, by run (its failure logged) or by ask (answered)
    this.ask().catch((error: unknown) => this.logger.error({ err: error }, `${this.name} failed`));
  }

  // As run, and settles as a run that began after this ask ends: rejected with its error, which
  // is the asker's to handle.
  ask(): Promise<void> {
    if (!this.running) return this.begin();
    if (!this.again) {
      let start!: () => void;
      const done = new Promise<void>((resolve) => (start = () => resolve(this.begin())));
      this.again = { done, start };
    }
    return this.again.done;
  }

  private begin(): Promise<void> {
    const run = this.work();
    this.running = run.then(
      () => this.ended(),
      () => this.ended(),
    );
    return run;
  }

  private ended(): void {
    this.running = undefined;
    const again = this.again;
    this.again = undefined;
    again?.start();
  }

  // Whether a run is under way (a run asked for meanwhile starts as it ends: busy throughout).
  get busy(): boolean {
    return this.running !== undefined;
  }

  // Resolves once no run is under way (nor asked for).
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
