import {
  TERMINAL_STEP_STATUSES,
  WorkflowDefinitionSchema,
  type RunChanges,
  type RunSnapshot,
  type WorkflowDefinition,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { toWorkflowRun } from './workflow.repository';

type RunRow = Awaited<ReturnType<PrismaClient['workflowRun']['findUniqueOrThrow']>>;
type StepRow = Awaited<ReturnType<PrismaClient['workflowStep']['findUniqueOrThrow']>>;
// A step row as json_agg gives it: its times are text.
type JsonStep = Omit<StepRow, 'dueAt' | 'createdAt' | 'finishedAt' | 'updatedAt'> & {
  dueAt: string | null;
  createdAt: string;
  finishedAt: string | null;
  updatedAt: string;
};

function stepFromJson(step: JsonStep): StepRow {
  const at = (value: string | null) => (value === null ? null : new Date(value));
  return {
    ...step,
    dueAt: at(step.dueAt),
    createdAt: new Date(step.createdAt),
    finishedAt: at(step.finishedAt),
    updatedAt: new Date(step.updatedAt),
  };
}

const json = (value: unknown) =>
  value === undefined || value === null ? undefined : (value as Prisma.InputJsonValue);

// The workflow engine's writes to a run and its steps. Each decision is taken with the run's row
// locked (SELECT … FOR UPDATE): two orchestrators, or two messages about one run, decide one
// after the other, each on what the other wrote. Reached as `@hangar/db/workflow-state`, for the
// orchestrator's engine alone.
export class WorkflowRunStore {
  // Versions never change, nor do a project's slug and a workflow's name as a run shows them:
  // read once each (a decision is on every step's path; its reads are what it costs).
  private readonly definitions = new Map<string, WorkflowDefinition>();
  private readonly names = new Map<string, { project: { slug: string }; workflow: { name: string } }>();

  constructor(private readonly prisma: PrismaClient) {}

  private async definitionOf(tx: Prisma.TransactionClient, workflowId: string, version: number) {
    const key = `${workflowId}:${version}`;
    let definition = this.definitions.get(key);
    if (!definition) {
      const row = await tx.workflowVersion.findUniqueOrThrow({
        where: { workflowId_version: { workflowId, version } },
      });
      definition = WorkflowDefinitionSchema.parse(row.definition);
      if (this.definitions.size > 1000) this.definitions.clear();
      this.definitions.set(key, definition);
    }
    return definition;
  }

  private async namesOf(tx: Prisma.TransactionClient, runId: string) {
    let names = this.names.get(runId);
    if (!names) {
      names = await tx.workflowRun.findUniqueOrThrow({
        where: { id: runId },
        select: { project: { select: { slug: true } }, workflow: { select: { name: true } } },
      });
      if (this.names.size > 10_000) this.names.clear();
      this.names.set(runId, names);
    }
    return names;
  }

  async advance<T extends RunChanges>(
    runId: string,
    decide: (snapshot: RunSnapshot) => T,
  ): Promise<{ snapshot: RunSnapshot; changes: T } | null> {
    return this.prisma.$transaction(
      async (tx) => {
        // The lock and the run's row; then its steps and tasks, in a statement of their own: one
        // that waited for the lock reads them as the decision before it left them (a subquery of
        // the locking statement would see them as they were when that statement began).
        const [locked] = await tx.$queryRaw<RunRow[]>`
          SELECT id, workflow_id AS "workflowId", version, project_id AS "projectId", status, inputs,
                 outputs, error, cost_usd AS "costUsd", deadline_at AS "deadlineAt",
                 cancel_requested_at AS "cancelRequestedAt", created_by AS "createdBy",
                 created_at AS "createdAt", finished_at AS "finishedAt", updated_at AS "updatedAt"
          FROM workflow_runs WHERE id = ${runId} FOR UPDATE`;
        if (!locked) return null;
        const [children] = await tx.$queryRaw<{ steps: JsonStep[]; tasks: RunSnapshot['tasks'] }[]>`
          SELECT (SELECT coalesce(json_agg(s ORDER BY s."createdAt", s.key), '[]'::json) FROM (
                    SELECT id, run_id AS "runId", key, step_id AS "stepId", iteration, item, status,
                           task_id AS "taskId", attempt, output, error, due_at AS "dueAt",
                           decided_by AS "decidedBy", comment, created_at AS "createdAt",
                           finished_at AS "finishedAt", updated_at AS "updatedAt"
                    FROM workflow_steps WHERE run_id = ${runId}) s) AS steps,
                 (SELECT coalesce(json_agg(t), '[]'::json) FROM (
                    SELECT id, status, result, cost_usd AS "costUsd", error
                    FROM tasks WHERE workflow_run_id = ${runId}) t) AS tasks`;
        const steps = children!.steps.map(stepFromJson);
        const tasks = children!.tasks;
        const definition = await this.definitionOf(tx, locked.workflowId, locked.version);
        const names = await this.namesOf(tx, runId);
        const row = { ...locked, ...names };
        const snapshot: RunSnapshot = {
          run: toWorkflowRun(row, definition, steps),
          projectId: row.projectId,
          cancelRequested: row.cancelRequestedAt !== null,
          definition,
          tasks,
        };
        const changes = decide(snapshot);
        const now = new Date();
        const existing = new Map(steps.map((step) => [step.key, step]));
        const created: Prisma.WorkflowStepCreateManyInput[] = [];
        for (const step of changes.steps) {
          const finishedAt = (TERMINAL_STEP_STATUSES as readonly string[]).includes(step.status) ? now : null;
          const fields = {
            status: step.status,
            iteration: step.iteration,
            ...(step.taskId !== undefined ? { taskId: step.taskId } : {}),
            ...(step.attempt !== undefined ? { attempt: step.attempt } : {}),
            ...(step.output !== undefined ? { output: json(step.output) ?? Prisma.DbNull } : {}),
            ...(step.error !== undefined ? { error: step.error } : {}),
            ...(step.dueAt !== undefined ? { dueAt: step.dueAt } : {}),
            ...(step.decidedBy !== undefined ? { decidedBy: step.decidedBy } : {}),
            ...(step.comment !== undefined ? { comment: step.comment } : {}),
          };
          const before = existing.get(step.key);
          if (before)
            await tx.workflowStep.update({
              where: { id: before.id },
              data: { ...fields, finishedAt: before.finishedAt ?? finishedAt },
            });
          else
            created.push({
              runId,
              key: step.key,
              stepId: step.stepId,
              item: step.item,
              ...fields,
              finishedAt,
            });
        }
        // New steps in one statement (a fan-out's items are many).
        if (created.length > 0) await tx.workflowStep.createMany({ data: created });
        if (changes.run) {
          const { status, error, outputs, costUsd, cancelRequested } = changes.run;
          const terminal = status !== undefined && status !== 'RUNNING';
          await tx.workflowRun.update({
            where: { id: runId },
            data: {
              ...(status !== undefined ? { status } : {}),
              ...(error !== undefined ? { error } : {}),
              ...(outputs !== undefined ? { outputs: json(outputs) ?? Prisma.DbNull } : {}),
              ...(costUsd !== undefined ? { costUsd } : {}),
              ...(cancelRequested && !row.cancelRequestedAt ? { cancelRequestedAt: now } : {}),
              ...(terminal && !row.finishedAt ? { finishedAt: now } : {}),
            },
          });
        }
        return { snapshot, changes };
      },
      { timeout: 30_000 },
    );
  }

  // Runs the engine has not finished, for the reconciler.
  async unfinishedRunIds(): Promise<string[]> {
    const rows = await this.prisma.workflowRun.findMany({
      where: { status: 'RUNNING' },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((row) => row.id);
  }

  // Finished runs that still have tasks that have not ended (a cancel in flight), so the
  // reconciler can cancel them again.
  async finishedRunsWithLiveTasks(): Promise<string[]> {
    const rows = await this.prisma.task.findMany({
      where: {
        status: { in: ['QUEUED', 'RUNNING'] },
        workflowRun: { status: { not: 'RUNNING' } },
      },
      select: { workflowRunId: true },
      distinct: ['workflowRunId'],
    });
    return rows.flatMap((row) => (row.workflowRunId ? [row.workflowRunId] : []));
  }
}
