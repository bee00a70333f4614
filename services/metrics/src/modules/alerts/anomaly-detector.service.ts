import { Inject, Injectable, Logger } from '@nestjs/common';
import { AlertStore, type Baseline, type NewAnomaly, type StoredSample } from '@hangar/db';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';
import { AlertsMetrics } from './alerts.metrics';

type Metric = Baseline['metric'];

// How long a profile's baseline is used before it is read again.
const BASELINE_TTL_MS = 60_000;

// PostgreSQL text cannot hold \u0000: a stored sample's names do not.
function groupKey(of: { project: string; profile: string }): string {
  return `${of.project}\u0000${of.profile}`;
}

// MAD × 1.4826 estimates the standard deviation of normally distributed values.
const MAD_TO_SIGMA = 1.4826;

// Anomalies (docs/alerts.md#anomalies): each task whose sample is stored is compared, on cost,
// run time and tool calls, with its profile's baseline in its project — the median and the
// median absolute deviation (MAD) of that profile's latest ANOMALY_BASELINE_TASKS tasks that
// ended within ANOMALY_WINDOW_DAYS before it (a robust baseline: a few outliers do not move
// it). A task ANOMALY_SCORE robust deviations above the median, and at least ANOMALY_MIN_RATIO
// times it, is an anomaly: stored once per task and metric, counted, and seen by alert rules
// on `anomaly.count`. No baseline yet (fewer than ANOMALY_MIN_TASKS tasks, or a median of 0):
// nothing is called an anomaly.
@Injectable()
export class AnomalyDetector {
  private readonly logger = new Logger(AnomalyDetector.name);

  constructor(
    private readonly alerts: AlertStore,
    private readonly metrics: AlertsMetrics,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {}

  // Baselines read lately, by project and profile: a busy profile's is read once a minute, not
  // at every batch (each read sorts its last ANOMALY_BASELINE_TASKS tasks).
  private readonly known = new Map<string, { until: number; baselines: Baseline[] }>();

  // Samples just stored. One baseline per project, profile and metric for the whole batch, of
  // the tasks that ended before that group's first sample of the batch; those not known from
  // the last BASELINE_TTL_MS read in one statement. Never throws: a sample is stored whether or
  // not it could be judged.
  async inspect(samples: readonly StoredSample[]): Promise<number> {
    const groups = new Map<
      string,
      { project: string; profile: string; before: number; samples: StoredSample[] }
    >();
    for (const stored of samples) {
      const { sample, finishedMs } = stored;
      if (sample.status !== 'COMPLETED' && sample.status !== 'FAILED') continue;
      const key = groupKey(sample);
      let group = groups.get(key);
      if (!group) {
        group = { project: sample.project, profile: sample.profile, before: finishedMs, samples: [] };
        groups.set(key, group);
      }
      if (finishedMs < group.before) group.before = finishedMs;
      group.samples.push(stored);
    }
    if (groups.size === 0) return 0;
    try {
      const now = Date.now();
      const baselinesOf = new Map<string, Baseline[]>();
      const unknown: string[] = [];
      for (const key of groups.keys()) {
        const known = this.known.get(key);
        if (known && known.until > now) baselinesOf.set(key, known.baselines);
        else unknown.push(key);
      }
      if (unknown.length > 0) {
        const read = await this.alerts.baselines(
          unknown.map((key) => {
            const { project, profile, before } = groups.get(key)!;
            return { project, profile, before: new Date(before) };
          }),
          { windowDays: this.config.ANOMALY_WINDOW_DAYS, limit: this.config.ANOMALY_BASELINE_TASKS },
        );
        for (const key of unknown) {
          const baselines = read.filter((baseline) => groupKey(baseline) === key);
          baselinesOf.set(key, baselines);
          // A profile without enough history yet is read again at its next batch.
          if (baselines.some((baseline) => baseline.tasks >= this.config.ANOMALY_MIN_TASKS))
            this.known.set(key, { until: now + BASELINE_TTL_MS, baselines });
          else this.known.delete(key);
        }
      }
      const found: NewAnomaly[] = [];
      for (const [key, group] of groups) {
        for (const baseline of baselinesOf.get(key) ?? []) {
          if (baseline.tasks < this.config.ANOMALY_MIN_TASKS || baseline.median <= 0) continue;
          for (const stored of group.samples) {
            const value = valueOf(stored, baseline.metric);
            if (value === null) continue;
            const score = judge(value, baseline, this.config);
            if (score === null) continue;
            const { sample } = stored;
            found.push({
              taskId: sample.taskId,
              project: sample.project,
              profile: sample.profile,
              metric: baseline.metric,
              value,
              median: baseline.median,
              mad: baseline.mad,
              score,
              baselineTasks: baseline.tasks,
              at: new Date(stored.finishedMs),
            });
          }
        }
      }
      // All of the batch's in one statement; each counted, and a few named in the log.
      const added = await this.alerts.addAnomalies(found);
      for (const anomaly of added) this.metrics.anomaly(anomaly.metric);
      if (added.length > 0) this.logger.log(described(added));
      return added.length;
    } catch (error) {
      this.logger.error({ err: error }, `anomaly detection failed for ${samples.length} samples`);
      return 0;
    }
  }
}

// Anomalies named in the log: the first few; the rest counted (all are stored).
const LOGGED_ANOMALIES = 5;

function described(anomalies: readonly NewAnomaly[]): string {
  const named = anomalies
    .slice(0, LOGGED_ANOMALIES)
    .map(
      (a) =>
        `task ${a.taskId} (${a.project}/${a.profile}): ${a.metric} ${a.value} against a median of ${a.median} (score ${a.score.toFixed(1)})`,
    );
  const more = anomalies.length - named.length;
  return `${anomalies.length === 1 ? 'an anomaly' : `${anomalies.length} anomalies`}: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

// A sample's value on a metric, as its baseline measures it (run time from the stored run_ms).
function valueOf({ sample, runMs }: StoredSample, metric: Metric): number | null {
  if (metric === 'cost_usd') return sample.costUsd;
  if (metric === 'run_seconds') return runMs === null ? null : runMs / 1000;
  let calls = 0;
  for (const tool in sample.toolCalls) calls += sample.toolCalls[tool]!;
  return calls;
}

// How far out a value is (null: not an anomaly): (value − median) ÷ (1.4826 × MAD), or, when
// the baseline does not vary (MAD 0), value ÷ median.
export function judge(
  value: number,
  baseline: { median: number; mad: number },
  settings: { ANOMALY_SCORE: number; ANOMALY_MIN_RATIO: number },
): number | null {
  if (value < settings.ANOMALY_MIN_RATIO * baseline.median) return null;
  if (baseline.mad === 0) return value / baseline.median;
  const score = (value - baseline.median) / (MAD_TO_SIGMA * baseline.mad);
  return score >= settings.ANOMALY_SCORE ? score : null;
}

// The median and the median absolute deviation of `values` (0 and 0 when there are none).
export function medianAndMad(values: readonly number[]): { median: number; mad: number; count: number } {
  const median = medianOf([...values]);
  return { median, mad: medianOf(values.map((value) => Math.abs(value - median))), count: values.length };
}

function medianOf(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}
