import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TaskSamples } from '@hangar/db';
import { Periodic } from '@hangar/platform';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';
import { RecordIngest } from './record-ingest.service';

const BATCH = 1_000;

// Samples the ended tasks whose record never arrived (Redis was away when their lifecycle sent
// it, or the stream was trimmed past it while no replica read), from PostgreSQL: their sample
// as the record would have made it. A record that arrives after all is a duplicate, not counted.
@Injectable()
export class SampleReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SampleReconciler.name);
  private readonly periodic: Periodic;

  constructor(
    private readonly samples: TaskSamples,
    private readonly ingest: RecordIngest,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {
    this.periodic = new Periodic('sample reconciler', config.METRICS_RECONCILE_SECONDS * 1000, async () => {
      await this.reconcile();
    });
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async onApplicationShutdown() {
    await this.periodic.stop();
  }

  // One pass: every unsampled ended task in the lookback, a batch at a time. Returns how many.
  async reconcile(): Promise<number> {
    const now = Date.now();
    const since = new Date(now - this.config.METRICS_RECONCILE_LOOKBACK_HOURS * 3_600_000);
    // Ended that long ago without a sample: its record was lost, not merely on its way.
    const endedBefore = new Date(now - this.config.METRICS_RECONCILE_GRACE_SECONDS * 1000);
    let total = 0;
    for (;;) {
      const records = await this.samples.unsampled(since, endedBefore, BATCH);
      if (records.length === 0) break;
      const stored = await this.ingest.storeRebuilt(records);
      total += stored;
      // Stored by a record meanwhile: the next query finds them sampled.
      if (records.length < BATCH || stored === 0) break;
    }
    if (total > 0) this.logger.warn(`sampled ${total} ended tasks whose record never arrived`);
    return total;
  }
}
