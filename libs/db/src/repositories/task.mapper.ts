import {
  TaskCheckResultSchema,
  TaskCheckSchema,
  TaskSandboxSchema,
  traceIdOf,
  TraceContextSchema,
  type Task,
  type TaskPriority,
} from '@hangar/contracts';
import { Prisma, type Task as TaskRow } from '../generated/prisma/client';

// What every task query includes: the names the contract shows instead of ids.
export const taskRelations = {
  profile: { select: { name: true } },
  project: { select: { slug: true } },
} as const;

export type TaskRowWithProfile = TaskRow & { profile: { name: string }; project: { slug: string } };

// Prisma rows never leave libs/db: callers get the contract type.
export function toTask(row: TaskRowWithProfile): Task {
  const hasUsage = row.inputTokens !== null || row.outputTokens !== null;
  return {
    id: row.id,
    project: row.project.slug,
    status: row.status,
    priority: row.priority as TaskPriority,
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
    sandbox: TaskSandboxSchema.nullable().catch(null).parse(row.sandbox),
    repository: row.repository,
    ref: row.repositoryRef,
    push: row.push,
    branch: row.branch,
    baseCommit: row.baseCommit,
    pushedAt: row.pushedAt?.toISOString() ?? null,
    conversationId: row.conversationId,
    retryOf: row.retryOfId,
    outputSchema: (row.outputSchema as Record<string, unknown> | null) ?? null,
    check: TaskCheckSchema.nullable().catch(null).parse(row.check),
    checkResult: TaskCheckResultSchema.nullable().catch(null).parse(row.checkResult),
    workspaceOf: row.workspaceOf,
    workflowRunId: row.workflowRunId,
    workflowStep: row.workflowStep,
    parentTaskId: row.parentTaskId,
    rootTaskId: row.rootTaskId ?? row.id,
    depth: row.depth,
    requires: row.requires,
    pool: row.pool,
    error: row.error,
    waiting:
      row.waitingReason === 'provider-quota' || row.waitingReason === 'approval'
        ? { reason: row.waitingReason, until: row.waitingUntil?.toISOString() ?? null }
        : null,
    lastSeq: row.lastSeq,
    traceId: traceIdOfRow(row.trace),
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

function traceIdOfRow(stored: unknown): string | null {
  const trace = TraceContextSchema.nullable().catch(null).parse(stored);
  return trace ? traceIdOf(trace) : null;
}

// The same row from a node-postgres statement (../sql.ts): `SELECT ${TASK_COLUMNS} FROM <t>`
// where <t> is `tasks` (or a CTE of its rows, such as an UPDATE … RETURNING *) named t.
const FIELDS: (keyof TaskRow)[] = [
  'id',
  'projectId',
  'profileId',
  'conversationId',
  'status',
  'priority',
  'retryOfId',
  'prompt',
  'scenario',
  'timeoutSeconds',
  'repository',
  'repositoryRef',
  'push',
  'branch',
  'baseCommit',
  'pushedAt',
  'attempts',
  'runnerId',
  'heartbeatAt',
  'cancelRequestedAt',
  'result',
  'costUsd',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheCreationTokens',
  'numTurns',
  'durationMs',
  'agentSessionId',
  'exitCode',
  'workspace',
  'sandbox',
  'error',
  'lastSeq',
  'createdAt',
  'startedAt',
  'finishedAt',
  'updatedAt',
  'outputSchema',
  'workspaceOf',
  'workflowRunId',
  'workflowStep',
  'admittedAt',
  'requires',
  'routing',
  'pool',
  'parentTaskId',
  'rootTaskId',
  'depth',
  'check',
  'checkResult',
  'waitingReason',
  'waitingUntil',
  'trace',
];
const column = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

export const TASK_COLUMNS = Prisma.raw(
  [
    ...FIELDS.map((field) => `t."${column(field)}" AS "${field}"`),
    `(SELECT name FROM agent_profiles WHERE id = t.profile_id) AS "profileName"`,
    `(SELECT slug FROM projects WHERE id = t.project_id) AS "projectSlug"`,
  ].join(', '),
);

export function taskFromSql(row: TaskRow & { profileName: string; projectSlug: string }): Task {
  return toTask({ ...row, profile: { name: row.profileName }, project: { slug: row.projectSlug } });
}
