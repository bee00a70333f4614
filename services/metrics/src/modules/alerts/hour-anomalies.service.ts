import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AlertStore, type HourSums, type NewAnomaly } from '@hangar/db';
import { Periodic } from '@hangar/platform';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';
import { AlertsMetrics } from './alerts.metrics';
import { judge, medianAndMad } from './anomaly-detector.service';

const HOUR_MS = 3_600_000;
// A failure rate's median is taken as at least this: a profile whose tasks never fail would
// otherwise have a median of 0 — no baseline — and its worst hour would never stand out.
const FAILURE_RATE_FLOOR = 0.1;

// Anomalies of an hour (docs/alerts.md#anomalies): every ANOMALY_HOUR_CHECK_SECONDS, each
// project's profile's last two whole hours (UTC; the one before the last for records that came
// late) are compared with that profile's other hours of the ANOMALY_WINDOW_DAYS before — the
// median and MAD of their failure rates and of their costs, from the hour rollups. An hour far
// above on one (as a task's measures are judged) is an anomaly: stored once per project,
// profile, measure and hour, whichever replica saw it first. Only hours with tasks count; a
// failure rate only of hours with ANOMALY_HOUR_MIN_TASKS tasks that completed or failed;
// nothing before the profile has ANOMALY_MIN_HOURS such hours.
@Injectable()
export class HourAnomalies implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HourAnomalies.name);
  private readonly periodic: Periodic;

  constructor(
    private readonly alerts: AlertStore,
    private readonly metrics: AlertsMetrics,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {
    this.periodic = new Periodic('hour anomalies', config.ANOMALY_HOUR_CHECK_SECONDS * 1000, async () => {
      await this.check();
    });
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async onApplicationShutdown() {
    await this.periodic.stop();
  }

  // Judges the last two whole hours before `now`; returns the anomalies that were new.
  async check(now = Date.now()): Promise<NewAnomaly[]> {
    const last = Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS;
    const from = last - this.config.ANOMALY_WINDOW_DAYS * 24 * HOUR_MS;
    const hours = await this.alerts.hourSums(new Date(from), new Date(last));
    const found: NewAnomaly[] = [];
    for (const history of byProfile(hours)) {
      for (const hour of history) {
        if (hour.hourMs < last - HOUR_MS) continue;
        found.push(...this.judgeHour(hour, history));
      }
    }
    const added = await this.alerts.addAnomalies(found);
    this.metrics.hourChecked();
    for (const a of added) {
      this.metrics.anomaly(a.metric);
      this.logger.log(
        `${a.project}/${a.profile}, the hour from ${a.hour?.toISOString()}: ${a.metric} ${a.value} against a median of ${a.median} (score ${a.score.toFixed(1)})`,
      );
    }
    return added;
  }

  // One hour against the profile's hours before it.
  private judgeHour(hour: HourSums, history: readonly HourSums[]): NewAnomaly[] {
    const before = history.filter((other) => other.hourMs < hour.hourMs);
    const anomalies: NewAnomaly[] = [];
    const found = (
      metric: NewAnomaly['metric'],
      value: number,
      baseline: { median: number; mad: number; count: number },
      median: number,
    ) => {
      if (baseline.count < this.config.ANOMALY_MIN_HOURS || median <= 0) return;
      const score = judge(value, { median, mad: baseline.mad }, this.config);
      if (score === null) return;
      anomalies.push({
        taskId: null,
        hour: new Date(hour.hourMs),
        project: hour.project,
        profile: hour.profile,
        metric,
        value,
        median,
        mad: baseline.mad,
        score,
        baselineTasks: baseline.count,
        at: new Date(hour.hourMs + HOUR_MS),
      });
    };
    const minTasks = this.config.ANOMALY_HOUR_MIN_TASKS;
    if (hour.judged >= minTasks) {
      const rates = medianAndMad(
        before.filter((other) => other.judged >= minTasks).map((other) => other.failed / other.judged),
      );
      found(
        'hour_failure_rate',
        hour.failed / hour.judged,
        rates,
        Math.max(rates.median, FAILURE_RATE_FLOOR),
      );
    }
    const costs = medianAndMad(before.map((other) => other.costUsd));
    found('hour_cost_usd', hour.costUsd, costs, costs.median);
    return anomalies;
  }
}

// The hours of each project's profile, in order (as hourSums returns them).
function byProfile(hours: readonly HourSums[]): HourSums[][] {
  const groups = new Map<string, HourSums[]>();
  for (const hour of hours) {
    const key = `${hour.project}\u0000${hour.profile}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(hour);
  }
  return [...groups.values()];
}
