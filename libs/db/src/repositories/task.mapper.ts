import type { Task } from '@hangar/contracts';
import type { Task as TaskRow } from '../generated/prisma/client';

export type TaskRowWithProfile = TaskRow & { profile: { name: string } };

// Prisma rows never leave libs/db: callers get the contract type.
export function toTask(row: TaskRowWithProfile): Task {
  const hasUsage = row.inputTokens !== null || row.outputTokens !== null;
  return {
    id: row.id,
    status: row.status,
    prompt: row.prompt,
    profile: row.profile.name,
    scenario: row.scenario,
    timeoutSeconds: row.timeoutSeconds,
    attempts: row.attempts,
    result: row.result,
    costUsd: row.costUsd,
    usage: hasUsage
      ? {
          inputTokens: row.inputTokens ?? 0,
          outputTokens: row.outputTokens ?? 0,
          cacheReadTokens: row.cacheReadTokens ?? 0,
          cacheCreationTokens: row.cacheCreationTokens ?? 0,
        }
      : null,
    numTurns: row.numTurns,
    durationMs: row.durationMs,
    agentSessionId: row.agentSessionId,
    exitCode: row.exitCode,
    workspace: row.workspace,
    repository: row.repository,
    ref: row.repositoryRef,
    push: row.push,
    branch: row.branch,
    baseCommit: row.baseCommit,
    pushedAt: row.pushedAt?.toISOString() ?? null,
    conversationId: row.conversationId,
    error: row.error,
    lastSeq: row.lastSeq,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
