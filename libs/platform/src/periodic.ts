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
