import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import {
  HangarError,
  type AlertFiring,
  type AlertRule,
  type AlertSeries,
  type AlertSilence,
  type AlertTarget,
  type Anomaly,
  type CreateAlertRuleRequest,
  type CreateAlertSilenceRequest,
  type CreateAlertTargetRequest,
} from '@hangar/contracts';
import { AlertStore, alertRuleNotFound, ProfileRepository } from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';

// Alert rules, notification targets, silences, firings and anomalies (docs/alerts.md). The
// installation's are made and removed by instance administrators, a project's by its admins;
// a project's operators may also silence its rules; every member sees the project's and the
// installation's.
@Injectable()
export class AlertsService {
  constructor(
    private readonly alerts: AlertStore,
    private readonly profiles: ProfileRepository,
    private readonly audit: AuditTrail,
  ) {}

  listRules(principal: Principal, project?: string): Promise<AlertRule[]> {
    return this.alerts.listRules(principal.visibleIds(project));
  }

  async createRule(
    principal: Principal,
    project: string | undefined,
    input: CreateAlertRuleRequest,
  ): Promise<AlertRule> {
    const projectId = this.owner(principal, project, input.installation, 'admin');
    if (input.profile !== undefined && projectId !== null)
      await this.profiles.idOf(projectId, input.profile).catch((error: unknown) => {
        throw error instanceof HangarError
          ? new HangarError('VALIDATION_FAILED', `the project has no profile "${input.profile}"`, {
              field: 'profile',
            })
          : error;
      });
    const owners = await this.alerts.targetProjects(input.targets);
    for (const [index, target] of input.targets.entries()) {
      const owner = owners.get(target);
      // A project's rule may notify the project's targets and the installation's; the
      // installation's rule, the installation's only.
      if (owner === undefined || (owner !== null && owner !== projectId))
        throw new HangarError(
          'VALIDATION_FAILED',
          `no alert target ${target} ${projectId === null ? 'of the installation' : 'in the project or the installation'}`,
          { field: `targets.${index}` },
        );
    }
    const created = await this.alerts.createRule({
      projectId,
      name: input.name,
      series: input.series as AlertSeries,
      comparator: input.comparator,
      threshold: input.threshold,
      windowMinutes: input.windowMinutes,
      forSeconds: input.forSeconds,
      severity: input.severity,
      profile: input.profile ?? null,
      enabled: input.enabled,
      targetIds: input.targets,
      createdBy: principal.actor.label,
    });
    this.audit.touched({
      projectId,
      target: { type: 'alert_rule', id: created.id },
      details: { name: created.name },
    });
    return created;
  }

  async deleteRule(principal: Principal, id: string): Promise<void> {
    const rule = await this.alerts.rule(id);
    if (!rule || !this.sees(principal, rule.projectId)) throw alertRuleNotFound(id);
    this.requireRole(principal, rule.projectId, 'admin');
    await this.alerts.deleteRule(id);
    this.audit.touched({ projectId: rule.projectId, target: { type: 'alert_rule', id } });
  }

  listTargets(principal: Principal, project?: string): Promise<AlertTarget[]> {
    return this.alerts.listTargets(principal.visibleIds(project));
  }

  async createTarget(
    principal: Principal,
    project: string | undefined,
    installation: boolean,
    input: CreateAlertTargetRequest,
  ): Promise<AlertTarget> {
    const projectId = this.owner(principal, project, installation, 'admin');
    const created = await this.alerts.createTarget({
      projectId,
      target: input,
      createdBy: principal.actor.label,
    });
    this.audit.touched({
      projectId,
      target: { type: 'alert_target', id: created.id },
      details: { name: created.name },
    });
    return created;
  }

  async deleteTarget(principal: Principal, id: string): Promise<void> {
    const owners = await this.alerts.targetProjects([id]);
    const projectId = owners.get(id);
    if (projectId === undefined || !this.sees(principal, projectId))
      throw new HangarError('ALERT_TARGET_NOT_FOUND', `alert target ${id} does not exist or is not yours`);
    this.requireRole(principal, projectId, 'admin');
    await this.alerts.deleteTarget(id);
    this.audit.touched({ projectId, target: { type: 'alert_target', id } });
  }

  listSilences(principal: Principal, project?: string): Promise<AlertSilence[]> {
    return this.alerts.listSilences(principal.visibleIds(project));
  }

  async createSilence(
    principal: Principal,
    project: string | undefined,
    input: CreateAlertSilenceRequest,
  ): Promise<AlertSilence> {
    let projectId: string | null;
    if (input.rule !== undefined) {
      const rule = await this.alerts.rule(input.rule);
      if (!rule || !this.sees(principal, rule.projectId))
        throw new HangarError(
          'VALIDATION_FAILED',
          `alert rule ${input.rule} does not exist or is not yours`,
          {
            field: 'rule',
          },
        );
      projectId = rule.projectId;
      this.requireRole(principal, projectId, 'operator');
    } else projectId = this.owner(principal, project, input.installation, 'operator');
    const created = await this.alerts.createSilence({
      projectId,
      ruleId: input.rule ?? null,
      endsAt: new Date(Date.now() + input.minutes * 60_000),
      comment: input.comment,
      createdBy: principal.actor.label,
    });
    this.audit.touched({ projectId, target: { type: 'alert_silence', id: created.id } });
    return created;
  }

  async endSilence(principal: Principal, id: string): Promise<void> {
    const silence = await this.alerts.silence(id);
    if (!silence || !this.sees(principal, silence.projectId))
      throw new HangarError('ALERT_SILENCE_NOT_FOUND', `silence ${id} does not exist or is not yours`);
    this.requireRole(principal, silence.projectId, 'operator');
    await this.alerts.endSilence(id);
    this.audit.touched({ projectId: silence.projectId, target: { type: 'alert_silence', id } });
  }

  listFirings(principal: Principal, project?: string): Promise<AlertFiring[]> {
    return this.alerts.listFirings(principal.visibleIds(project));
  }

  listAnomalies(
    principal: Principal,
    project: string | undefined,
    task: string | undefined,
  ): Promise<Anomaly[]> {
    const ids = new Set(principal.visibleIds(project));
    const slugs = principal.projects.filter((access) => ids.has(access.id)).map((access) => access.slug);
    return this.alerts.listAnomalies(slugs, { taskId: task });
  }

  // The project a new rule, target or silence belongs to (null: the installation's), once the
  // caller may make it there.
  private owner(
    principal: Principal,
    project: string | undefined,
    installation: boolean,
    role: 'admin' | 'operator',
  ): string | null {
    if (installation) {
      principal.requireInstanceAdmin();
      return null;
    }
    return principal.require(principal.project(project).id, role).id;
  }

  private sees(principal: Principal, projectId: string | null): boolean {
    return projectId === null || principal.projectIds.includes(projectId);
  }

  private requireRole(principal: Principal, projectId: string | null, role: 'admin' | 'operator'): void {
    if (projectId === null) principal.requireInstanceAdmin();
    else principal.require(projectId, role);
  }
}
