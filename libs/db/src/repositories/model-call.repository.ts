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
    const [sums, unpriced] = await Promise.all([
      this.prisma.modelCall.aggregate({
        where: { taskId },
        _count: { _all: true },
        _sum: {
          inputTokens: true,
          outputTokens: true,
          cacheReadTokens: true,
          cacheWriteTokens: true,
          costUsd: true,
        },
      }),
      this.prisma.modelCall.count({ where: { taskId, costUsd: null } }),
    ]);
    return {
      taskId,
      calls: sums._count._all,
      inputTokens: sums._sum.inputTokens ?? 0,
      outputTokens: sums._sum.outputTokens ?? 0,
      cacheReadTokens: sums._sum.cacheReadTokens ?? 0,
      cacheWriteTokens: sums._sum.cacheWriteTokens ?? 0,
      costUsd: sums._sum.costUsd ?? 0,
      unpricedCalls: unpriced,
    };
  }
}
