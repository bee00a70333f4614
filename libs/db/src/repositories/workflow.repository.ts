import {
  HangarError,
  WorkflowDefinitionSchema,
  type Workflow,
  type WorkflowDefinition,
  type WorkflowRun,
  type WorkflowRunPage,
  type WorkflowStepRun,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { lockAndCountChildren, parentSubmitter } from './children-lock';
import { keysetAfter, keysetPage } from './keyset-cursor';
import type { Submitter } from './task.repository';

type WorkflowRow = Awaited<ReturnType<PrismaClient['workflow']['findUniqueOrThrow']>> & {
  project: { slug: string };
  versions: { definition: unknown }[];
};

const latest = {
  project: { select: { slug: true } },
  versions: { orderBy: { version: 'desc' }, take: 1, select: { definition: true } },
} as const;

function toWorkflow(row: WorkflowRow): Workflow {
  return {
    id: row.id,
    project: row.project.slug,
    name: row.name,
    description: row.description,
    version: row.version,
    definition: WorkflowDefinitionSchema.parse(row.versions[0]?.definition),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function workflowNotFound(id: string): HangarError {
  return new HangarError('WORKFLOW_NOT_FOUND', `workflow ${id} does not exist`, { workflowId: id });
}

function runNotFound(id: string): HangarError {
  return new HangarError('WORKFLOW_RUN_NOT_FOUND', `workflow run ${id} does not exist`, { runId: id });
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

// Workflow definitions, versioned per project. A definition is stored as validated (defaults
// filled in); every change is a new version, and runs keep the version they started with.
export class WorkflowRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(projectId: string, definition: WorkflowDefinition, createdBy: string): Promise<Workflow> {
    const row = await this.prisma.workflow
      .create({
        data: {
          projectId,
          name: definition.name,
          description: definition.description ?? null,
          createdBy,
          versions: { create: { version: 1, definition: definition as Prisma.InputJsonObject, createdBy } },
        },
        include: latest,
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error))
          throw new HangarError(
            'WORKFLOW_EXISTS',
            `the project has a workflow named "${definition.name}" already: change it with PUT /api/v1/workflows/<id>`,
            { field: 'name' },
          );
        throw error;
      });
    return toWorkflow(row);
  }

  // A new version; the name stays.
  async addVersion(id: string, definition: WorkflowDefinition, createdBy: string): Promise<Workflow> {
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.workflow.update({
        where: { id, archivedAt: null },
        data: { version: { increment: 1 }, description: definition.description ?? null },
      });
      await tx.workflowVersion.create({
        data: {
          workflowId: id,
          version: current.version,
          definition: definition as Prisma.InputJsonObject,
          createdBy,
        },
      });
      return toWorkflow(await tx.workflow.findUniqueOrThrow({ where: { id }, include: latest }));
    });
  }

  async getVisible(id: string, projectIds: readonly string[]): Promise<Workflow & { projectId: string }> {
    const row = await this.prisma.workflow.findFirst({
      where: { id, projectId: { in: [...projectIds] }, archivedAt: null },
      include: latest,
    });
    if (!row) throw workflowNotFound(id);
    return { ...toWorkflow(row), projectId: row.projectId };
  }

  async findByName(projectId: string, name: string): Promise<(Workflow & { projectId: string }) | null> {
    const row = await this.prisma.workflow.findFirst({
      where: { projectId, name, archivedAt: null },
      include: latest,
    });
    return row ? { ...toWorkflow(row), projectId: row.projectId } : null;
  }

  async list(projectIds: readonly string[]): Promise<Workflow[]> {
    const rows = await this.prisma.workflow.findMany({
      where: { projectId: { in: [...projectIds] }, archivedAt: null },
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
      take: 500,
      include: latest,
    });
    return rows.map(toWorkflow);
  }

  async versions(
    id: string,
  ): Promise<{ version: number; definition: WorkflowDefinition; createdBy: string; createdAt: string }[]> {
    const rows = await this.prisma.workflowVersion.findMany({
      where: { workflowId: id },
      orderBy: { version: 'desc' },
    });
    return rows.map((row) => ({
      version: row.version,
      definition: WorkflowDefinitionSchema.parse(row.definition),
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
    }));
  }

  async version(id: string, version: number): Promise<WorkflowDefinition | null> {
    const row = await this.prisma.workflowVersion.findUnique({
      where: { workflowId_version: { workflowId: id, version } },
    });
    return row ? WorkflowDefinitionSchema.parse(row.definition) : null;
  }

  // Archived: gone from lists and its name free; its runs and versions stay readable.
  async archive(id: string): Promise<void> {
    await this.prisma.workflow.update({ where: { id }, data: { archivedAt: new Date() } });
  }
}

type RunRow = Awaited<ReturnType<PrismaClient['workflowRun']['findUniqueOrThrow']>> & {
  project: { slug: string };
  workflow: { name: string };
};
type StepRow = Awaited<ReturnType<PrismaClient['workflowStep']['findUniqueOrThrow']>>;

const runRelations = {
  project: { select: { slug: true } },
  workflow: { select: { name: true } },
} as const;

export function toStepRun(row: StepRow, type: WorkflowStepRun['type']): WorkflowStepRun {
  return {
    key: row.key,
    stepId: row.stepId,
    type,
    iteration: row.iteration,
    item: row.item,
    status: row.status as WorkflowStepRun['status'],
    taskId: row.taskId,
    attempt: row.attempt,
    output: row.output ?? null,
    error: row.error,
    dueAt: row.dueAt?.toISOString() ?? null,
    decidedBy: row.decidedBy,
    comment: row.comment,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

// A step's type, from the definition the run runs (rows keep only the step's id).
export function stepTypes(definition: WorkflowDefinition): Map<string, WorkflowStepRun['type']> {
  const types = new Map<string, WorkflowStepRun['type']>();
  for (const step of definition.steps) {
    types.set(step.id, step.type);
    if (step.type === 'loop') for (const child of step.steps) types.set(child.id, child.type);
  }
  return types;
}

export function toWorkflowRun(row: RunRow, definition: WorkflowDefinition, steps: StepRow[]): WorkflowRun {
  const types = stepTypes(definition);
  return {
    id: row.id,
    workflowId: row.workflowId,
    workflow: row.workflow.name,
    version: row.version,
    project: row.project.slug,
    status: row.status as WorkflowRun['status'],
    inputs: row.inputs as Record<string, unknown>,
    outputs: (row.outputs as Record<string, string> | null) ?? null,
    error: row.error,
    costUsd: row.costUsd,
    budgetUsd: definition.budgetUsd ?? null,
    deadlineAt: row.deadlineAt?.toISOString() ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    steps: steps.map((step) => toStepRun(step, types.get(step.stepId) ?? 'agent')),
  };
}

async function readRun(
  client: PrismaClient | Prisma.TransactionClient,
  where: Prisma.WorkflowRunWhereInput,
): Promise<(WorkflowRun & { projectId: string }) | null> {
  const row = await client.workflowRun.findFirst({
    where,
    include: { ...runRelations, steps: { orderBy: [{ createdAt: 'asc' }, { key: 'asc' }] } },
  });
  if (!row) return null;
  const version = await client.workflowVersion.findUniqueOrThrow({
    where: { workflowId_version: { workflowId: row.workflowId, version: row.version } },
  });
  const definition = WorkflowDefinitionSchema.parse(version.definition);
  return { ...toWorkflowRun(row, definition, row.steps), projectId: row.projectId };
}

export interface NewWorkflowRun {
  workflowId: string;
  version: number;
  projectId: string;
  inputs: Record<string, unknown>;
  deadlineAt: Date | null;
  createdBy: string;
  submitter?: Submitter;
}

function runRow(input: NewWorkflowRun) {
  return {
    workflowId: input.workflowId,
    version: input.version,
    projectId: input.projectId,
    inputs: input.inputs as Prisma.InputJsonObject,
    deadlineAt: input.deadlineAt,
    createdBy: input.createdBy,
    userId: input.submitter?.userId ?? null,
    tokenId: input.submitter?.tokenId ?? null,
  };
}

// Runs as people read them, and a run's birth (the gateway records it; from then on only the
// orchestrator's engine writes it, through WorkflowRunStore).
export class WorkflowRunRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: NewWorkflowRun): Promise<string> {
    const row = await this.prisma.workflowRun.create({ data: runRow(input), select: { id: true } });
    return row.id;
  }

  // A run a delegating agent started (docs/delegation.md), its id chosen by the agent's runner:
  // recorded once however often asked, and refused past the parent's fan-out (its tasks and runs
  // together, counted under the lock its child tasks are counted under).
  async createChild(
    input: NewWorkflowRun & { id: string; parentTaskId: string },
    maxChildren: number,
  ): Promise<{ kind: 'created' | 'exists'; id: string } | { kind: 'limit'; count: number }> {
    return this.prisma.$transaction(async (tx) => {
      const count = await lockAndCountChildren(tx, input.parentTaskId);
      const existing = await tx.workflowRun.findUnique({
        where: { id: input.id },
        select: { parentTaskId: true },
      });
      if (existing) {
        if (existing.parentTaskId !== input.parentTaskId)
          throw new HangarError('WORKFLOW_RUN_NOT_FOUND', `workflow run ${input.id} exists already`);
        return { kind: 'exists', id: input.id } as const;
      }
      if (count >= maxChildren) return { kind: 'limit', count } as const;
      await tx.workflowRun.create({
        data: {
          ...runRow(input),
          id: input.id,
          parentTaskId: input.parentTaskId,
          ...(await parentSubmitter(tx, input.parentTaskId)),
        },
      });
      return { kind: 'created', id: input.id } as const;
    });
  }

  // The runs a task's agent started, oldest first, with their parent.
  async childrenOf(parentTaskId: string): Promise<WorkflowRun[]> {
    const rows = await this.prisma.workflowRun.findMany({
      where: { parentTaskId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true },
    });
    const runs = await Promise.all(rows.map((row) => readRun(this.prisma, { id: row.id })));
    return runs.flatMap((run) => {
      if (!run) return [];
      const { projectId: _projectId, ...shown } = run;
      return [shown];
    });
  }

  async getVisible(id: string, projectIds: readonly string[]): Promise<WorkflowRun & { projectId: string }> {
    const run = await readRun(this.prisma, { id, projectId: { in: [...projectIds] } });
    if (!run) throw runNotFound(id);
    return run;
  }

  // The project of a run the caller can see (to authorize watching it), without its steps.
  async visibleProjectId(id: string, projectIds: readonly string[]): Promise<string> {
    const row = await this.prisma.workflowRun.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
      select: { projectId: true },
    });
    if (!row) throw runNotFound(id);
    return row.projectId;
  }

  // The run as it is now with its count of decisions (what orders what is told of them), read
  // in one snapshot. Null for a run that does not exist.
  async current(id: string): Promise<{ run: WorkflowRun & { projectId: string }; decisions: number } | null> {
    return this.prisma.$transaction(
      async (tx) => {
        const row = await tx.workflowRun.findUnique({ where: { id }, select: { decisions: true } });
        const run = row ? await readRun(tx, { id }) : null;
        return row && run ? { run, decisions: row.decisions } : null;
      },
      { isolationLevel: 'RepeatableRead' },
    );
  }

  async list(
    where: { workflowId?: string; projectIds: readonly string[]; status?: WorkflowRun['status'] },
    page: { limit: number; cursor?: string },
  ): Promise<WorkflowRunPage> {
    const rows = await this.prisma.workflowRun.findMany({
      where: {
        projectId: { in: [...where.projectIds] },
        ...(where.workflowId ? { workflowId: where.workflowId } : {}),
        ...(where.status ? { status: where.status } : {}),
        ...keysetAfter('createdAt', page.cursor),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit + 1,
      include: runRelations,
    });
    const { page: items, nextCursor } = keysetPage(rows, page.limit, (row) => row.createdAt);
    const definitions = new Map<string, WorkflowDefinition>();
    const result: WorkflowRunPage['items'] = [];
    for (const row of items) {
      const key = `${row.workflowId}:${row.version}`;
      let definition = definitions.get(key);
      if (!definition) {
        const version = await this.prisma.workflowVersion.findUniqueOrThrow({
          where: { workflowId_version: { workflowId: row.workflowId, version: row.version } },
        });
        definition = WorkflowDefinitionSchema.parse(version.definition);
        definitions.set(key, definition);
      }
      const { steps: _steps, ...run } = toWorkflowRun(row, definition, []);
      result.push(run);
    }
    return { items: result, nextCursor };
  }
}
