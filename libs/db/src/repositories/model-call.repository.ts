import type { ModelUsage } from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Sql } from '../sql';
import { timeOrderedId } from '../task-id';

// A model call as the model gateway metered it (docs/governance.md).
export interface NewModelCall {
  taskId: string;
  attempt: number;
  projectId: string;
  workflowRunId: string | null;
  provider: string;
  model: string | null;
  credential: string;
  status: number;
  tokens: {
    inputTokens: number;
    outputTokens: number;
    cacheReadTokens: number;
    cacheWriteTokens: number;
  } | null;
  costUsd: number | null;
  priceVersion: string | null;
  startedAt: Date;
  finishedAt: Date;
}

export class ModelCallRepository {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // node-postgres (../sql.ts): the runner records every model call of every task.
  async record(call: NewModelCall): Promise<void> {
    const { tokens } = call;
    await this.sql.query(Prisma.sql`
      INSERT INTO model_calls (id, task_id, attempt, project_id, workflow_run_id, provider, model,
        credential, status, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        cost_usd, price_version, latency_ms, started_at, finished_at)
      VALUES (${timeOrderedId('m')}, ${call.taskId}, ${call.attempt}, ${call.projectId},
        ${call.workflowRunId}, ${call.provider}, ${call.model}, ${call.credential}, ${call.status},
        ${tokens?.inputTokens ?? null}, ${tokens?.outputTokens ?? null}, ${tokens?.cacheReadTokens ?? null},
        ${tokens?.cacheWriteTokens ?? null}, ${call.costUsd}, ${call.priceVersion},
        ${Math.max(0, Math.round(call.finishedAt.getTime() - call.startedAt.getTime()))},
        ${call.startedAt}, ${call.finishedAt})`);
  }

  async usageOfTask(taskId: string): Promise<ModelUsage> {
    const [sums] = await this.prisma.$queryRaw<
      {
        calls: number;
        input: number;
        output: number;
        cacheRead: number;
        cacheWrite: number;
        cost: number;
        unpriced: number;
      }[]
    >`
      SELECT count(*)::int AS calls, coalesce(sum(input_tokens), 0)::int AS input,
        coalesce(sum(output_tokens), 0)::int AS output, coalesce(sum(cache_read_tokens), 0)::int AS "cacheRead",
        coalesce(sum(cache_write_tokens), 0)::int AS "cacheWrite", coalesce(sum(cost_usd), 0)::float8 AS cost,
        (count(*) FILTER (WHERE cost_usd IS NULL))::int AS unpriced
      FROM model_calls WHERE task_id = ${taskId}`;
    return {
      taskId,
      calls: sums?.calls ?? 0,
      inputTokens: sums?.input ?? 0,
      outputTokens: sums?.output ?? 0,
      cacheReadTokens: sums?.cacheRead ?? 0,
      cacheWriteTokens: sums?.cacheWrite ?? 0,
      costUsd: sums?.cost ?? 0,
      unpricedCalls: sums?.unpriced ?? 0,
    };
  }
}
