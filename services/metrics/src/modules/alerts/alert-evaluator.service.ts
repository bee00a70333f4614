import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { alertHolds, histogramQuantile, type AlertState } from '@hangar/contracts';
import { AlertStore, BudgetRepository, type EvaluatedRule, type SqlTransaction } from '@hangar/db';
import { BudgetSpend, isLive, Periodic } from '@hangar/platform';
import { RunnerRegistry } from '@hangar/redis';
import { METRICS_CONFIG, type MetricsConfig } from '../../config';
import { AlertNotifier } from './alert-notifier.service';
import { AlertsMetrics } from './alerts.metrics';

// Evaluates every enabled alert rule each ALERTS_EVALUATE_SECONDS (docs/alerts.md): its series'
// value now, whether its condition holds, and so its state — inactive, pending (holds, not yet
// for its forSeconds), firing — kept with its firings and the notifications they owe, in one
// transaction that one replica at a time runs.
@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    private readonly alerts: AlertStore,
    private readonly budgets: BudgetRepository,
    private readonly spend: BudgetSpend,
    private readonly runners: RunnerRegistry,
    private readonly notifier: AlertNotifier,
    private readonly metrics: AlertsMetrics,
    @Inject(METRICS_CONFIG) private readonly config: MetricsConfig,
  ) {
    this.periodic = new Periodic('alert evaluation', config.ALERTS_EVALUATE_SECONDS * 1000, () =>
      this.evaluate(),
    );
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async onApplicationShutdown() {
    await this.periodic.stop();
  }

  async evaluate(now = new Date()): Promise<void> {
    const started = performance.now();
    const outcome = await this.alerts.exclusively(async (tx) => {
      const rules = await this.alerts.enabledRules(tx, now);
      // Read once for all the rules of this evaluation that need them.
      const shared = {
        liveRunners: once(
          async () =>
            (await this.runners.all(now.getTime())).filter((runner) => isLive(runner, now.getTime())).length,
        ),
        budgetUse: once(() => this.budgetUse()),
      };
      const outcomes = [];
      for (const rule of rules) {
        const value = await this.value(tx, rule, now, shared);
        outcomes.push({
          rule,
          value,
          ...next(rule, alertHolds(rule.comparator, value, rule.threshold), now),
        });
      }
      const resendBefore = new Date(now.getTime() - this.config.ALERTS_ALERTMANAGER_RESEND_SECONDS * 1000);
      const recorded = await this.alerts.record(tx, now, outcomes, resendBefore);
      return { ...recorded, firing: outcomes.filter((entry) => entry.state === 'firing').length };
    });
    this.metrics.evaluated(performance.now() - started);
    if (!outcome) return; // another replica evaluates
    this.metrics.firing(outcome.firing);
    this.metrics.transitions(outcome.fired.length, outcome.resolved.length);
    if (outcome.notifications > 0) this.notifier.wake();
  }

  // The rule's series now (ALERT_SERIES in libs/contracts says what each is).
  private async value(
    tx: SqlTransaction,
    rule: EvaluatedRule,
    now: Date,
    shared: { liveRunners: () => Promise<number>; budgetUse: () => Promise<BudgetUse[]> },
  ): Promise<number> {
    const scope = {
      project: rule.project,
      profile: rule.profile,
      from: new Date(now.getTime() - rule.windowMinutes * 60_000),
    };
    if (rule.series === 'anomaly.count') return this.alerts.anomalyCount(tx, scope);
    if (rule.series === 'runner.live') return shared.liveRunners();
    if (rule.series === 'budget.used_percent')
      // The highest share of its limit any budget of the rule's project (every budget, for the
      // installation's rule) has spent in its period now.
      return Math.max(
        0,
        ...(await shared.budgetUse())
          .filter((use) => rule.projectId === null || use.projectId === rule.projectId)
          .map((use) => use.percent),
      );
    const sums = await this.alerts.windowSums(tx, scope);
    switch (rule.series) {
      case 'task.failure_rate':
        return sums.ended === 0 ? 0 : sums.failed / sums.ended;
      case 'task.failed':
        return sums.failed;
      case 'task.ended':
        return sums.ended;
      case 'task.cost_usd':
        return sums.costUsd;
      case 'task.tokens':
        return sums.tokens;
      case 'task.queue_wait_p95_seconds':
        return (histogramQuantile(sums.queueHist, 0.95) ?? 0) / 1000;
      case 'task.run_p95_seconds':
        return (histogramQuantile(sums.runHist, 0.95) ?? 0) / 1000;
    }
  }

  // Each budget's spend in its period now, as a share of its limit in percent (the larger of
  // dollars and tokens).
  private async budgetUse(): Promise<BudgetUse[]> {
    const uses: BudgetUse[] = [];
    for (const budget of await this.budgets.all()) {
      const spent = await this.spend.now(budget);
      uses.push({
        projectId: budget.projectId,
        percent: Math.max(
          budget.limitUsd ? (100 * spent.usd) / budget.limitUsd : 0,
          budget.limitTokens ? (100 * spent.tokens) / budget.limitTokens : 0,
        ),
      });
    }
    return uses;
  }
}

interface BudgetUse {
  projectId: string | null;
  percent: number;
}

// `read` at its first call only; later calls get its first answer.
function once<T>(read: () => Promise<T>): () => Promise<T> {
  let answer: Promise<T> | undefined;
  return () => (answer ??= read());
}

// A rule's next state: it fires once its condition has held for its forSeconds (at once when
// 0), stays firing while it holds, and is inactive as soon as it does not.
export function next(
  rule: Pick<EvaluatedRule, 'state' | 'stateSince' | 'forSeconds'>,
  holds: boolean,
  now: Date,
): { state: AlertState; stateSince: Date } {
  if (!holds)
    return {
      state: 'inactive',
      stateSince: rule.state === 'inactive' && rule.stateSince ? rule.stateSince : now,
    };
  if (rule.state === 'firing') return { state: 'firing', stateSince: rule.stateSince ?? now };
  const pendingSince = rule.state === 'pending' && rule.stateSince ? rule.stateSince : now;
  return now.getTime() - pendingSince.getTime() >= rule.forSeconds * 1000
    ? { state: 'firing', stateSince: now }
    : { state: 'pending', stateSince: pendingSince };
}
