import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { Workflow, WorkflowDefinition, WorkflowVersion } from '@hangar/contracts';
import { WorkflowRepository } from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';
import { actorLabel } from './workflow-actor';
import { invalidWorkflow, WorkflowChecks } from './workflow-checks';

// Workflow definitions of a project: members read them, operators and admins change them.
// Every change is a new version; runs keep the version they started with.
@Injectable()
export class WorkflowsService {
  constructor(
    private readonly workflows: WorkflowRepository,
    private readonly checks: WorkflowChecks,
    private readonly audit: AuditTrail,
  ) {}

  async create(
    principal: Principal,
    project: string | undefined,
    definition: WorkflowDefinition,
  ): Promise<Workflow> {
    const access = principal.require(principal.project(project).id, 'operator');
    await this.checks.assertValid(access.id, definition);
    const created = await this.workflows.create(access.id, definition, actorLabel(principal));
    this.audit.touched({
      projectId: access.id,
      target: { type: 'workflow', id: created.id },
      details: { name: created.name, version: created.version },
    });
    return created;
  }

  // The same checks as create, nothing stored: any member may ask.
  async validate(principal: Principal, project: string | undefined, definition: WorkflowDefinition) {
    await this.checks.assertValid(principal.project(project).id, definition);
    return { valid: true as const };
  }

  list(principal: Principal, project: string | undefined): Promise<Workflow[]> {
    return this.workflows.list(principal.visibleIds(project));
  }

  async get(principal: Principal, id: string): Promise<Workflow> {
    const { projectId: _projectId, ...workflow } = await this.workflows.getVisible(id, principal.projectIds);
    return workflow;
  }

  // A new version; the name is what identifies the workflow, so it stays.
  async update(principal: Principal, id: string, definition: WorkflowDefinition): Promise<Workflow> {
    const current = await this.workflows.getVisible(id, principal.projectIds);
    principal.require(current.projectId, 'operator');
    if (definition.name !== current.name) {
      throw invalidWorkflow(`a new version of workflow "${current.name}" must keep its name`, [
        { field: 'name', message: `must be "${current.name}": a workflow's name does not change` },
      ]);
    }
    await this.checks.assertValid(current.projectId, definition);
    const updated = await this.workflows.addVersion(id, definition, actorLabel(principal));
    this.audit.touched({
      projectId: current.projectId,
      target: { type: 'workflow', id },
      details: { name: updated.name, version: updated.version },
    });
    return updated;
  }

  async versions(principal: Principal, id: string): Promise<WorkflowVersion[]> {
    await this.workflows.getVisible(id, principal.projectIds);
    return this.workflows.versions(id);
  }

  // Gone from lists and its name free; its versions and runs stay readable.
  async archive(principal: Principal, id: string): Promise<void> {
    const current = await this.workflows.getVisible(id, principal.projectIds);
    principal.require(current.projectId, 'operator');
    await this.workflows.archive(id);
    this.audit.touched({
      projectId: current.projectId,
      target: { type: 'workflow', id },
      details: { name: current.name },
    });
  }
}
