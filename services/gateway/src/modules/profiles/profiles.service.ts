import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import {
  HangarError,
  type AgentProfileView,
  type CreateProfileRequest,
  type UpdateProfileRequest,
} from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';

// The switches the audit log shows from and to, beside which fields a change named.
const AUDITED_SWITCHES = ['trustRepositorySettings', 'internetAccess', 'telemetryContent'] as const;

// Profiles are read by every member and changed by the project's admins. Loading a repository's
// own settings (its hooks run on the runner) is for instance administrators to turn on.
@Injectable()
export class ProfilesService {
  constructor(
    private readonly profiles: ProfileRepository,
    private readonly audit: AuditTrail,
  ) {}

  list(principal: Principal, project?: string): Promise<AgentProfileView[]> {
    return this.profiles.list(principal.project(project).id);
  }

  get(principal: Principal, project: string | undefined, name: string): Promise<AgentProfileView> {
    return this.profiles.get(principal.project(project).id, name);
  }

  async create(principal: Principal, project: string | undefined, input: CreateProfileRequest) {
    const access = principal.require(principal.project(project).id, 'admin');
    if (input.trustRepositorySettings === true) requireInstanceAdminForTrust(principal);
    requireApprovalsSupported(input.provider ?? 'claude', input.approvals?.tools ?? []);
    requireWarmSupported(input.provider ?? 'claude', input.warm ?? null);
    const created = await this.profiles.create(access.id, input);
    this.audit.touched({
      projectId: access.id,
      target: { type: 'profile', id: created.name },
      details: {
        ...Object.fromEntries(AUDITED_SWITCHES.map((name) => [name, created[name]])),
        // Whether its agents may start tasks of their own (docs/delegation.md).
        delegation: created.delegation,
        approvals: created.approvals,
      },
    });
    return created;
  }

  async update(principal: Principal, project: string | undefined, name: string, input: UpdateProfileRequest) {
    const access = principal.require(principal.project(project).id, 'admin');
    const before = await this.profiles.get(access.id, name);
    requireApprovalsSupported(input.provider ?? before.provider, (input.approvals ?? before.approvals).tools);
    requireWarmSupported(
      input.provider ?? before.provider,
      input.warm === undefined ? before.warm : input.warm,
    );
    const change = { ...input };
    if (input.trustRepositorySettings === true && !principal.isInstanceAdmin) {
      if (!before.trustRepositorySettings) requireInstanceAdminForTrust(principal);
      // On already: nothing to write, so this change cannot undo an administrator's turning it off.
      delete change.trustRepositorySettings;
    }
    const updated = await this.profiles.update(access.id, name, change);
    const switched = AUDITED_SWITCHES.filter((field) => before[field] !== updated[field]);
    this.audit.touched({
      projectId: access.id,
      target: { type: 'profile', id: name },
      details: {
        changed: Object.keys(input),
        ...Object.fromEntries(switched.map((field) => [field, { from: before[field], to: updated[field] }])),
        ...(JSON.stringify(before.delegation) !== JSON.stringify(updated.delegation)
          ? { delegation: { from: before.delegation, to: updated.delegation } }
          : {}),
        ...(JSON.stringify(before.approvals) !== JSON.stringify(updated.approvals)
          ? { approvals: { from: before.approvals, to: updated.approvals } }
          : {}),
      },
    });
    return updated;
  }

  async delete(principal: Principal, project: string | undefined, name: string): Promise<void> {
    const access = principal.require(principal.project(project).id, 'admin');
    await this.profiles.delete(access.id, name);
    this.audit.touched({ projectId: access.id, target: { type: 'profile', id: name } });
  }
}

function requireInstanceAdminForTrust(principal: Principal): void {
  if (principal.isInstanceAdmin) return;
  throw new HangarError(
    'FORBIDDEN',
    "only an instance administrator may turn on trustRepositorySettings: the repository's hooks " +
      'would run on the runner',
    { field: 'trustRepositorySettings', required: 'isAdmin' },
  );
}

// Asking a person before a tool call needs Claude Code's permission prompt tool: the other CLIs,
// headless, have no hook for it (docs/governance.md).
function requireApprovalsSupported(provider: string, tools: readonly string[]): void {
  if (tools.length === 0 || provider === 'claude') return;
  throw new HangarError(
    'VALIDATION_FAILED',
    `a ${provider} profile cannot have approvals: only Claude Code can ask Hangar before a tool call ` +
      '(use disallowedTools to keep such tools from the agent instead)',
    { field: 'approvals' },
  );
}

// A warm CLI waits for its prompt on stdin: Codex's and the Gemini CLI's headless modes read the
// whole prompt before they start anything, so nothing is gained by starting them early.
function requireWarmSupported(provider: string, warm: number | null): void {
  if (!warm || provider === 'claude') return;
  throw new HangarError(
    'VALIDATION_FAILED',
    `a ${provider} profile cannot keep warm agents: only Claude Code can be started before its prompt (set warm to 0 or null)`,
    { field: 'warm' },
  );
}
