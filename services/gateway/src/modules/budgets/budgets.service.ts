import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import { HangarError, type Budget, type CreateBudgetRequest } from '@hangar/contracts';
import {
  ApiTokenRepository,
  BudgetRepository,
  ProfileRepository,
  TaskRepository,
  UserRepository,
  WorkflowRunRepository,
  type StoredBudget,
} from '@hangar/db';
import { BudgetSpend } from '@hangar/platform';
import { AuditTrail } from '../../common/audit-trail';

// Budgets (docs/governance.md): the installation's are made and removed by instance
// administrators, a project's (and its profiles', runs' and tasks') by its admins; every member
// sees those of their projects and the installation's, with what was spent in the period now.
@Injectable()
export class BudgetsService {
  constructor(
    private readonly budgets: BudgetRepository,
    private readonly spend: BudgetSpend,
    private readonly profiles: ProfileRepository,
    private readonly tasks: TaskRepository,
    private readonly runs: WorkflowRunRepository,
    private readonly users: UserRepository,
    private readonly tokens: ApiTokenRepository,
    private readonly audit: AuditTrail,
  ) {}

  async list(principal: Principal, project?: string): Promise<Budget[]> {
    const stored = await this.budgets.list(principal.visibleIds(project));
    return Promise.all(stored.map((budget) => this.view(budget)));
  }

  async create(
    principal: Principal,
    project: string | undefined,
    input: CreateBudgetRequest,
  ): Promise<Budget> {
    let projectId: string | null = null;
    let target: string | null = null;
    if (input.scope === 'installation') principal.requireInstanceAdmin();
    else {
      projectId = principal.require(principal.project(project).id, 'admin').id;
      if (input.scope === 'profile') target = await this.profiles.idOf(projectId, input.profile!);
      if (input.scope === 'user') target = await this.memberId(projectId, input.user!);
      if (input.scope === 'token') {
        const token = await this.tokens.find(input.target!, [projectId]);
        if (!token)
          throw new HangarError('TOKEN_NOT_FOUND', `the project has no API token ${input.target}`, {
            field: 'target',
          });
        target = token.id;
      }
      if (input.scope === 'workflow-run')
        target = (await this.runs.getVisible(input.target!, [projectId])).id;
      if (input.scope === 'task') target = (await this.tasks.getVisible(input.target!, [projectId])).id;
    }
    const created = await this.budgets.create({
      scope: input.scope,
      projectId,
      target,
      period: input.period,
      limitUsd: input.limitUsd ?? null,
      limitTokens: input.limitTokens ?? null,
      softPercent: input.softPercent,
      createdBy: principal.actor.label,
    });
    this.audit.touched({
      projectId,
      target: { type: 'budget', id: created.id },
      details: { label: created.label },
    });
    return this.view(created);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const budget = await this.budgets.get(id);
    if (!budget || (budget.projectId !== null && !principal.projectIds.includes(budget.projectId)))
      throw new HangarError('BUDGET_NOT_FOUND', `budget ${id} does not exist or is not yours`);
    if (budget.projectId === null) principal.requireInstanceAdmin();
    else principal.require(budget.projectId, 'admin');
    await this.budgets.delete(id);
    this.audit.touched({
      projectId: budget.projectId,
      target: { type: 'budget', id },
      details: { label: budget.label },
    });
  }

  private async view(budget: StoredBudget): Promise<Budget> {
    const spent = await this.spend.now(budget);
    return {
      id: budget.id,
      scope: budget.scope,
      project: budget.projectSlug,
      profile: budget.profileName,
      user: budget.userEmail,
      target: ['token', 'workflow-run', 'task'].includes(budget.scope) ? budget.target : null,
      period: budget.period,
      limitUsd: budget.limitUsd,
      limitTokens: budget.limitTokens,
      softPercent: budget.softPercent,
      spentUsd: spent.usd,
      spentTokens: spent.tokens,
      label: budget.label,
      createdAt: budget.createdAt.toISOString(),
    };
  }

  // A user budget's user: a member of the project, by email.
  private async memberId(projectId: string, email: string): Promise<string> {
    const members = await this.users.members(projectId);
    const member = members.find((candidate) => candidate.user.email === email.toLowerCase());
    if (!member)
      throw new HangarError('USER_NOT_FOUND', `${email} is not a member of the project`, { field: 'user' });
    return member.user.id;
  }
}
