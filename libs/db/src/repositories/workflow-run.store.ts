import {
  TERMINAL_STEP_STATUSES,
  WorkflowDefinitionSchema,
  type RunChanges,
  type RunSnapshot,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { toWorkflowRun } from './workflow.repository';

const json = (value: unknown) =>
  value === undefined || value === null ? undefined : (value as Prisma.InputJsonValue);

// The workflow engine's writes to a run and its steps. Each decision is taken with the run's row
// locked (SELECT … FOR UPDATE): two orchestrators, or two messages about one run, decide one
// after the other, each on what the other wrote. Reached as `@hangar/db/workflow-state`, for the
// orchestrator's engine alone.
export class WorkflowRunStore {
  constructor(private readonly prisma: PrismaClient) {}

  async advance<T extends RunChanges>(
    runId: string,
    decide: (snapshot: RunSnapshot) => T,
  ): Promise<{ snapshot: RunSnapshot; changes: T } | null> {
    return this.prisma.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<
          { id: string }[]
        >`SELECT id FROM workflow_runs WHERE id = ${runId} FOR UPDATE`;
        if (locked.length === 0) return null;
        const row = await tx.workflowRun.findUniqueOrThrow({
          where: { id: runId },
          include: {
            project: { select: { slug: true } },
            workflow: { select: { name: true } },
            steps: { orderBy: [{ createdAt: 'asc' }, { key: 'asc' }] },
          },
        });
        const version = await tx.workflowVersion.findUniqueOrThrow({
          where: { workflowId_version: { workflowId: row.workflowId, version: row.version } },
        });
        const definition = WorkflowDefinitionSchema.parse(version.definition);
        const tasks = await tx.task.findMany({
          where: { workflowRunId: runId },
          select: { id: true, status: true, result: true, costUsd: true, error: true },
        });
        const snapshot: RunSnapshot = {
          run: toWorkflowRun(row, definition, row.steps),
          projectId: row.projectId,
          cancelRequested: row.cancelRequestedAt !== null,
          definition,
          tasks,
        };
        const changes = decide(snapshot);
        const now = new Date();
        const existing = new Map(row.steps.map((step) => [step.key, step]));
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
            await tx.workflowStep.create({
              data: {
                runId,
                key: step.key,
                stepId: step.stepId,
                item: step.item,
                ...fields,
                finishedAt,
              },
            });
        }
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
