import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import {
  HangarError,
  type ApprovalDecision,
  type ListProjectWorkflowRunsQuery,
  type ListWorkflowRunsQuery,
  type StartWorkflowRunRequest,
  type Workflow,
  type WorkflowDefinition,
  type WorkflowRun,
  type WorkflowRunPage,
} from '@hangar/contracts';
import {
  DEFAULT_PROFILE,
  WorkflowRepository,
  WorkflowRunRepository,
  type NewWorkflowRun,
  type Submitter,
} from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';
import { RoutingPolicy } from '../runners/routing-policy';
import { actorLabel } from './workflow-actor';
import { invalidWorkflow } from './workflow-checks';
import { inputsFromText, type InputProblem, resolveRunInputs, webhookInputProblems } from './workflow-inputs';
import { WorkflowQueue } from './workflow-queue';

type Visible = WorkflowRun & { projectId: string };

// What each agent step needs of a runner (docs/routing.md), at its path in the definition.
function routingNeeds(definition: WorkflowDefinition) {
  const needs: { profile: string; requires: string[]; field: string }[] = [];
  definition.steps.forEach((step, index) => {
    const steps =
      step.type === 'loop'
        ? step.steps.map((child, inner) => ({ child, path: `steps.${index}.steps.${inner}` }))
        : [{ child: step, path: `steps.${index}` }];
    for (const { child, path } of steps)
      if (child.type === 'agent')
        needs.push({
          profile: child.profile ?? DEFAULT_PROFILE,
          requires: child.requires ?? [],
          field: `${path}.requires`,
        });
  });
  return needs;
}

function withoutProject({ projectId: _projectId, ...run }: Visible): WorkflowRun {
  return run;
}

// Runs of workflows: members read them; operators and admins start, cancel and decide. The
// gateway records a run's birth; everything after is the orchestrator's engine's to write, so
// cancel and decisions are requests queued to it, answered 202 with the run as it is now.
@Injectable()
export class WorkflowRunsService {
  private readonly logger = new Logger(WorkflowRunsService.name);

  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly runs: WorkflowRunRepository,
    private readonly queue: WorkflowQueue,
    private readonly audit: AuditTrail,
    private readonly routing: RoutingPolicy,
  ) {}

  async start(
    principal: Principal,
    workflowId: string,
    request: StartWorkflowRunRequest,
  ): Promise<WorkflowRun> {
    const workflow = await this.workflows.getVisible(workflowId, principal.projectIds);
    principal.require(workflow.projectId, 'operator');
    const version = request.version ?? workflow.version;
    const definition =
      version === workflow.version ? workflow.definition : await this.workflows.version(workflowId, version);
    if (!definition) {
      throw new HangarError(
        'WORKFLOW_NOT_FOUND',
        `workflow "${workflow.name}" has no version ${version}; its newest is ${workflow.version}`,
        { field: 'version' },
      );
    }
    const runId = await this.begin(workflow, version, definition, request.inputs, {
      label: actorLabel(principal),
      submitter: principal.submitter,
    });
    this.audit.touched({
      projectId: workflow.projectId,
      target: { type: 'workflow_run', id: runId },
      details: { workflowId, workflow: workflow.name, version },
    });
    return withoutProject(await this.runs.getVisible(runId, principal.projectIds));
  }

  // A run started for a webhook command: the newest version of the project's workflow of that
  // name, its inputs given as text (the command's rendered templates) and read as the types the
  // workflow declares. `by` is who the run records (`webhook:<receiver>`); the caller audits.
  async startForWebhook(
    projectId: string,
    name: string,
    textInputs: Record<string, string>,
    by: string,
  ): Promise<WorkflowRun> {
    const workflow = await this.workflows.findByName(projectId, name);
    if (!workflow) {
      throw new HangarError(
        'WORKFLOW_NOT_FOUND',
        `the project has no workflow "${name}" (deleted or renamed?)`,
        {
          field: 'workflow',
        },
      );
    }
    const inputs = inputsFromText(workflow.definition, textInputs);
    const runId = await this.begin(workflow, workflow.version, workflow.definition, inputs, { label: by });
    return withoutProject(await this.runs.getVisible(runId, [projectId]));
  }

  // A run a delegating agent starts (docs/delegation.md): the newest version of the project's
  // workflow `name`, its inputs checked as the API checks them, recorded by `record` (as a child
  // of the agent's task). `allowed` refuses a definition first (the profiles its steps use).
  async startForParent(
    projectId: string,
    name: string,
    inputs: Record<string, unknown>,
    by: string,
    allowed: (definition: WorkflowDefinition) => void,
    record: (run: NewWorkflowRun) => Promise<string>,
  ): Promise<WorkflowRun> {
    const workflow = await this.workflows.findByName(projectId, name);
    if (!workflow)
      throw new HangarError('WORKFLOW_NOT_FOUND', `the project has no workflow "${name}"`, {
        field: 'workflow',
      });
    allowed(workflow.definition);
    const runId = await this.begin(
      workflow,
      workflow.version,
      workflow.definition,
      inputs,
      { label: by },
      record,
    );
    return withoutProject(await this.runs.getVisible(runId, [projectId]));
  }

  // Refusals of a webhook command that would start the workflow `name` with these inputs, at
  // their fields (`workflow`, `inputs.<name>`): checked when the command is saved.
  async webhookStartProblems(projectId: string, name: string, inputs: string[]): Promise<InputProblem[]> {
    const workflow = await this.workflows.findByName(projectId, name);
    if (!workflow) return [{ field: 'workflow', message: `the project has no workflow "${name}"` }];
    return webhookInputProblems(workflow.definition, inputs);
  }

  // A run's birth, once its version is known: its inputs checked against that version, the run
  // recorded RUNNING, and the engine told.
  private async begin(
    workflow: Workflow & { projectId: string },
    version: number,
    definition: WorkflowDefinition,
    given: Record<string, unknown>,
    // Who starts it: a person or token (recorded, docs/governance.md), or how a webhook or a
    // delegating task is named (a delegated run has its parent task's submitter).
    by: { label: string; submitter?: Submitter },
    record: (run: NewWorkflowRun) => Promise<string> = (run) => this.runs.create(run),
  ): Promise<string> {
    const { inputs, problems } = resolveRunInputs(definition, given);
    if (problems.length > 0)
      throw invalidWorkflow(`the inputs do not fit workflow "${workflow.name}" version ${version}`, problems);
    await this.routing.check(workflow.projectId, routingNeeds(definition));
    const deadlineAt =
      definition.deadlineSeconds !== undefined
        ? new Date(Date.now() + definition.deadlineSeconds * 1000)
        : null;
    const runId = await record({
      workflowId: workflow.id,
      version,
      projectId: workflow.projectId,
      inputs,
      deadlineAt,
      createdBy: by.label,
      ...(by.submitter ? { submitter: by.submitter } : {}),
    });
    // The run is recorded RUNNING: if this job is lost, the engine's reconciler finds the run.
    await this.queue
      .started(runId)
      .catch((error: unknown) =>
        this.logger.warn(
          `start of workflow run ${runId} not queued (${String(error)}); the reconciler will pick it up`,
        ),
      );
    return runId;
  }

  async listOf(
    principal: Principal,
    workflowId: string,
    query: ListWorkflowRunsQuery,
  ): Promise<WorkflowRunPage> {
    const workflow = await this.workflows.getVisible(workflowId, principal.projectIds);
    return this.runs.list(
      { workflowId, projectIds: [workflow.projectId], ...(query.status ? { status: query.status } : {}) },
      { limit: query.limit, ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) },
    );
  }

  list(principal: Principal, query: ListProjectWorkflowRunsQuery): Promise<WorkflowRunPage> {
    return this.runs.list(
      { projectIds: principal.visibleIds(query.project), ...(query.status ? { status: query.status } : {}) },
      { limit: query.limit, ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) },
    );
  }

  async get(principal: Principal, id: string): Promise<WorkflowRun> {
    return withoutProject(await this.runs.getVisible(id, principal.projectIds));
  }

  async cancel(principal: Principal, id: string): Promise<WorkflowRun> {
    const run = await this.runs.getVisible(id, principal.projectIds);
    principal.require(run.projectId, 'operator');
    if (run.status !== 'RUNNING') {
      throw new HangarError(
        'INVALID_TRANSITION',
        `workflow run ${id} is ${run.status}: only a running run is cancelled`,
      );
    }
    await this.queue.request({ kind: 'cancel', runId: id, by: actorLabel(principal) });
    this.audit.touched({ projectId: run.projectId, target: { type: 'workflow_run', id } });
    return withoutProject(run);
  }

  // Approves or rejects an approval step waiting for a person.
  async decide(
    principal: Principal,
    id: string,
    key: string,
    approved: boolean,
    decision: ApprovalDecision,
  ): Promise<WorkflowRun> {
    const run = await this.runs.getVisible(id, principal.projectIds);
    principal.require(run.projectId, 'operator');
    const step = run.steps.find((candidate) => candidate.key === key);
    if (!step) {
      throw new HangarError('WORKFLOW_RUN_NOT_FOUND', `workflow run ${id} has no step "${key}" (yet)`, {
        field: 'key',
      });
    }
    if (step.type !== 'approval') {
      throw new HangarError(
        'INVALID_TRANSITION',
        `step "${key}" of workflow run ${id} is ${step.type === 'agent' ? 'an' : 'a'} ${step.type} step: only approval steps are approved or rejected`,
        { field: 'key' },
      );
    }
    if (run.status !== 'RUNNING' || step.status !== 'WAITING') {
      throw new HangarError(
        'INVALID_TRANSITION',
        run.status !== 'RUNNING'
          ? `workflow run ${id} is ${run.status}: its steps are no longer decided`
          : `step "${key}" of workflow run ${id} is ${step.status}: only a WAITING approval is decided`,
        { field: 'key' },
      );
    }
    await this.queue.request({
      kind: 'decide',
      runId: id,
      key,
      approved,
      by: actorLabel(principal),
      ...(decision.comment !== undefined ? { comment: decision.comment } : {}),
    });
    this.audit.touched({
      projectId: run.projectId,
      target: { type: 'workflow_run', id },
      details: { step: key, approved },
    });
    return withoutProject(run);
  }
}
