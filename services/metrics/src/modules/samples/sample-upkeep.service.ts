import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TaskSamples, TaskTelemetry, type RollupWidth, type SampleStorage } from '@hangar/db';
import { Periodic } from '@hangar/platform';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
// Days of partitions made ahead of today (and the one before it, for samples that arrive late).
const DAYS_AHEAD = 2;

// The samples' storage: on native partitions, a partition per day made ahead, and dropped once
// past METRICS_RETENTION_DAYS (on TimescaleDB, its chunks), the agents' telemetry with them; the
// per-minute and per-hour rollups pruned after their own retention. Hourly, and once before the first sample is stored.
@Injectable()
export class SampleUpkeep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SampleUpkeep.name);
  private readonly periodic: Periodic;
  private storage: SampleStorage | undefined;
  private preparing: Promise<SampleStorage> | undefined;

  constructor(
    private readonly samples: TaskSamples,
    private readonly telemetry: TaskTelemetry,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {
    this.periodic = new Periodic('sample upkeep', HOUR_MS, () => this.tidy());
  }

  // The storage the migration made, and the partitions of the days around today. One pass at a
  // time: the ingest's first (before its first sample) and the hourly one may ask together.
  prepareStorage(): Promise<SampleStorage> {
    this.preparing ??= this.prepare().finally(() => (this.preparing = undefined));
    return this.preparing;
  }

  private async prepare(): Promise<SampleStorage> {
    this.storage ??= await this.samples.storage();
    if (this.storage === 'partitions') {
      const now = Date.now();
      const skipped = await this.samples.ensurePartitions(
        new Date(now - DAY_MS),
        new Date(now + DAYS_AHEAD * DAY_MS),
      );
      if (skipped.length > 0)
        this.logger.warn(
          `no partition for ${skipped.join(', ')}: the default partition holds samples of those days already`,
        );
    }
    return this.storage;
  }

  // The oldest buckets each rollup width keeps (the day's are kept).
  rollupsSince(now = Date.now()): Partial<Record<RollupWidth, Date>> {
    return {
      minute: new Date(now - this.config.METRICS_MINUTE_ROLLUP_DAYS * DAY_MS),
      hour: new Date(now - this.config.METRICS_HOUR_ROLLUP_DAYS * DAY_MS),
    };
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async onApplicationShutdown() {
    await this.periodic.stop();
  }

  private async tidy(): Promise<void> {
    const storage = await this.prepareStorage();
    const now = Date.now();
    const cutoff = new Date(now - this.config.METRICS_RETENTION_DAYS * DAY_MS);
    const dropped = await this.samples.dropBefore(cutoff, storage);
    // The agents' own telemetry is kept as long as the samples.
    await this.telemetry.dropBefore(cutoff);
    if (dropped.length > 0) this.logger.log(`dropped samples past retention: ${dropped.join(', ')}`);
    await this.samples.pruneRollups(
      'minute',
      new Date(now - this.config.METRICS_MINUTE_ROLLUP_DAYS * DAY_MS),
    );
    await this.samples.pruneRollups('hour', new Date(now - this.config.METRICS_HOUR_ROLLUP_DAYS * DAY_MS));
  }
}
