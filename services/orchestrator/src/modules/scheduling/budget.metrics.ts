import { Inject, Injectable } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { BudgetRepository } from '@hangar/db';
import { METRICS_REGISTRY } from '@hangar/observability';
import { BudgetSpend } from '@hangar/platform';

const LABELS = ['budget', 'scope', 'project', 'target', 'period'] as const;
type Labels = Record<(typeof LABELS)[number], string>;

interface Reading {
  labels: Labels;
  limitUsd: number | null;
  limitTokens: number | null;
  spentUsd: number;
  spentTokens: number;
}

// Every budget's limits and what it spent in its period now, read when Prometheus scrapes
// (docs/governance.md): what an alert on a budget near its limit watches. Labels: the budget's
// id, scope, project (slug; "" for the installation's), target (the profile's name, the user's
// email, the token's name, the run's or task's id) and period. A budget without a dollar (token) limit has no limit series in dollars
// (tokens). The four series of one scrape share one read.
@Injectable()
export class BudgetMetrics {
  private reading: Promise<Reading[]> | undefined;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly budgets: BudgetRepository,
    private readonly spend: BudgetSpend,
  ) {
    const series: [string, string, (reading: Reading) => number | null][] = [
      ['hangar_budget_limit_usd', "A budget's limit in dollars", (reading) => reading.limitUsd],
      ['hangar_budget_limit_tokens', "A budget's limit in tokens", (reading) => reading.limitTokens],
      [
        'hangar_budget_spent_usd',
        'What a budget counted in its period now, in dollars',
        (reading) => reading.spentUsd,
      ],
      [
        'hangar_budget_spent_tokens',
        'Tokens a budget counted in its period now',
        (reading) => reading.spentTokens,
      ],
    ];
    for (const [name, help, value] of series) {
      const read = () => this.read();
      new Gauge({
        name,
        help,
        labelNames: LABELS,
        registers: [registry],
        async collect() {
          const readings = await read();
          this.reset();
          for (const reading of readings) {
            const measured = value(reading);
            if (measured !== null) this.set(reading.labels, measured);
          }
        },
      });
    }
  }

  private read(): Promise<Reading[]> {
    this.reading ??= this.load().finally(() => setImmediate(() => (this.reading = undefined)));
    return this.reading;
  }

  private async load(): Promise<Reading[]> {
    const readings: Reading[] = [];
    for (const budget of await this.budgets.all()) {
      const spent = await this.spend.now(budget);
      readings.push({
        labels: {
          budget: budget.id,
          scope: budget.scope,
          project: budget.projectSlug ?? '',
          target: budget.profileName ?? budget.userEmail ?? budget.tokenName ?? budget.target ?? '',
          period: budget.period,
        },
        limitUsd: budget.limitUsd,
        limitTokens: budget.limitTokens,
        spentUsd: spent.usd,
        spentTokens: spent.tokens,
      });
    }
    return readings;
  }
}
