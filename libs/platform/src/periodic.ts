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
// began after it. A failed run is logged, not fatal.
export class OnDemand {
  private readonly logger: Logger;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly name: string,
    private readonly work: () => Promise<void>,
  ) {
    this.logger = new Logger(name);
  }

  run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.work()
      .catch((error: unknown) => this.logger.error({ err: error }, `${this.name} failed`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.run();
        }
      });
  }

  // Resolves once no run is under way (nor asked for).
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
