import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { totalTokens, type CallRequest, type CallTokens, type ModelPrice } from '@hangar/agents';
import { BudgetRepository, budgetWindow, type AttemptGrant, type StoredBudget } from '@hangar/db';
import { BudgetCounters, type BudgetCounter, type CallReserve, type Reservation } from '@hangar/redis';

// How long a call waits for room while calls in flight hold its budget's last dollars, before
// it is refused as a rate limit the CLI retries.
const BUSY_WAIT_MS = 60_000;
// A task's budgets are read again after this long (one read per call otherwise).
const BUDGETS_TTL_MS = 2_000;
// A call's output reserve (BudgetCounters): at least this many tokens, and, when its request
// does not say how many it allows, at most this many.
const OUTPUT_FLOOR_TOKENS = 4_096;
const OUTPUT_CAP_TOKENS = 128_000;

// The budgets a call was admitted by, their counters and what each reserved (in one order).
export interface AdmittedBudgets {
  budgets: StoredBudget[];
  counters: BudgetCounter[];
  reservations: Reservation[];
}

// A budget a call brought to its soft limit, with what it spent then.
export interface SoftLimitWarning {
  budget: StoredBudget;
  spentUsd: number;
  spentTokens: number;
}

export type BudgetDecision =
  ({ admitted: true } & AdmittedBudgets) | { admitted: false; budget: StoredBudget; why: 'spent' | 'busy' };

// The budgets a model call counts against (docs/governance.md), checked before the gateway
// forwards it and charged when it ends: every budget of the installation, the task's project,
// who started it (user, token), its profile, workflow run and the task itself, in the period window of now, admitted together
// (BudgetCounters). A window's counter is seeded from the calls PostgreSQL recorded.
@Injectable()
export class BudgetGuard {
  private readonly cache = new Map<string, { at: number; budgets: StoredBudget[] }>();

  constructor(
    private readonly budgets: BudgetRepository,
    private readonly counters: BudgetCounters,
  ) {}

  // `call`: what the request asks for, and the price of the model it names (none: a model
  // without one); read only when a budget applies (a request may be megabytes of JSON).
  async admit(
    grant: AttemptGrant,
    call: () => { request: CallRequest; price: ModelPrice | undefined },
  ): Promise<BudgetDecision> {
    const budgets = await this.budgetsOf(grant);
    if (budgets.length === 0) return { admitted: true, budgets, counters: [], reservations: [] };
    const counters = budgets.map((budget) => counterOf(budget));
    const { request, price } = call();
    const reserve = reserveOf(request, price);
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      const admission = await this.counters.admit(counters, reserve);
      if (admission.admitted)
        return { admitted: true, budgets, counters, reservations: admission.reservations };
      const at = budgets.findIndex((candidate) => candidate.id === admission.budgetId);
      const budget = budgets[at]!;
      // A new window (or a flushed Redis): its counter starts from the calls PostgreSQL recorded.
      if (admission.why === 'unseeded') {
        await this.counters.seed(
          counters[at]!,
          await this.budgets.spent(budget, budgetWindow(budget.period).from),
        );
        continue;
      }
      if (admission.why === 'spent' || Date.now() > deadline)
        return { admitted: false, budget, why: admission.why };
      await sleep(25);
    }
  }

  // Counts what an admitted call cost; answers the budgets it brought to their soft limit (each
  // once per window, whichever runner's call did).
  async charge(
    admitted: AdmittedBudgets,
    costUsd: number | null,
    tokens: CallTokens | null,
  ): Promise<SoftLimitWarning[]> {
    const reached = await this.counters.release(admitted.counters, admitted.reservations, {
      usd: costUsd ?? 0,
      tokens: totalTokens(tokens),
      outputTokens: tokens?.outputTokens ?? 0,
    });
    return reached.flatMap(({ budgetId, spentUsd, spentTokens }) => {
      const budget = admitted.budgets.find((candidate) => candidate.id === budgetId);
      return budget ? [{ budget, spentUsd, spentTokens }] : [];
    });
  }

  private async budgetsOf(grant: AttemptGrant): Promise<StoredBudget[]> {
    const key = `${grant.taskId}:${grant.attempt}`;
    const cached = this.cache.get(key);
    if (cached && cached.at > Date.now() - BUDGETS_TTL_MS) return cached.budgets;
    const budgets = await this.budgets.applicable({
      id: grant.taskId,
      projectId: grant.task.projectId,
      profileId: grant.task.profileId,
      workflowRunId: grant.task.workflowRunId,
      userId: grant.task.userId,
      tokenId: grant.task.tokenId,
    });
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(key, { at: Date.now(), budgets });
    return budgets;
  }
}

// The most a call may cost, held against its budgets while it is in flight: its input at the
// dearest input price of its model (every byte of the request a token), and its output at most
// what the request allows (docs/governance.md).
function reserveOf(request: CallRequest, price: ModelPrice | undefined): CallReserve {
  const cap = request.maxOutputTokens ?? OUTPUT_CAP_TOKENS;
  return {
    inputUsd: price
      ? (request.inputTokensBound * Math.max(price.input, price.cacheWrite, price.cacheRead)) / 1e6
      : 0,
    inputTokens: request.inputTokensBound,
    outputUsdPerToken: price ? price.output / 1e6 : 0,
    outputFloorTokens: Math.min(OUTPUT_FLOOR_TOKENS, cap),
    outputCapTokens: cap,
  };
}

// A budget's counter in the period window of now.
function counterOf(budget: StoredBudget): BudgetCounter {
  return {
    budgetId: budget.id,
    window: budgetWindow(budget.period).key,
    limitUsd: budget.limitUsd,
    limitTokens: budget.limitTokens,
    softUsd: budget.limitUsd === null ? null : (budget.limitUsd * budget.softPercent) / 100,
    softTokens:
      budget.limitTokens === null ? null : Math.ceil((budget.limitTokens * budget.softPercent) / 100),
    // A day's counter outlives its day, a month's its month; a total's is kept.
    ttlSeconds: budget.period === 'day' ? 2 * 86_400 : budget.period === 'month' ? 32 * 86_400 : 0,
  };
}
