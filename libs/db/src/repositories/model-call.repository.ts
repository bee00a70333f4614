import type { ModelUsage } from '@hangar/contracts';
import type { PrismaClient } from '../generated/prisma/client';

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
  constructor(private readonly prisma: PrismaClient) {}

  async record(call: NewModelCall): Promise<void> {
    const { tokens, ...rest } = call;
    await this.prisma.modelCall.create({
      data: {
        ...rest,
        ...(tokens ?? {}),
        latencyMs: Math.max(0, Math.round(call.finishedAt.getTime() - call.startedAt.getTime())),
      },
    });
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
