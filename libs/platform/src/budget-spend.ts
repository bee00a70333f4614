import { Injectable } from '@nestjs/common';
import { BudgetRepository, budgetWindow, type StoredBudget } from '@hangar/db';
import { BudgetCounters } from '@hangar/redis';

// What a budget spent in its period now (docs/governance.md): its Redis counter, which the model
// gateway charges, or, before any call of the period made one, the calls PostgreSQL recorded.
@Injectable()
export class BudgetSpend {
  constructor(
    private readonly budgets: BudgetRepository,
    private readonly counters: BudgetCounters,
  ) {}

  async now(budget: StoredBudget): Promise<{ usd: number; tokens: number }> {
    const window = budgetWindow(budget.period);
    return (
      (await this.counters.spent({ budgetId: budget.id, window: window.key })) ??
      (await this.budgets.spent(budget, window.from))
    );
  }
}
