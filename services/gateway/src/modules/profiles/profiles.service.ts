import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { AgentProfile, CreateProfileRequest, UpdateProfileRequest } from '@hangar/contracts';
import { ProfileRepository } from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';

// Profiles are read by every member and changed by the project's admins.
@Injectable()
export class ProfilesService {
  constructor(
    private readonly profiles: ProfileRepository,
    private readonly audit: AuditTrail,
  ) {}

  list(principal: Principal, project?: string): Promise<AgentProfile[]> {
    return this.profiles.list(principal.project(project).id);
  }

  get(principal: Principal, project: string | undefined, name: string): Promise<AgentProfile> {
    return this.profiles.get(principal.project(project).id, name);
  }

  async create(principal: Principal, project: string | undefined, input: CreateProfileRequest) {
    const access = principal.require(principal.project(project).id, 'admin');
    const created = await this.profiles.create(access.id, input);
    this.audit.touched({ projectId: access.id, target: { type: 'profile', id: created.name } });
    return created;
  }

  async update(principal: Principal, project: string | undefined, name: string, input: UpdateProfileRequest) {
    const access = principal.require(principal.project(project).id, 'admin');
    const updated = await this.profiles.update(access.id, name, input);
    this.audit.touched({
      projectId: access.id,
      target: { type: 'profile', id: name },
      details: { changed: Object.keys(input) },
    });
    return updated;
  }

  async delete(principal: Principal, project: string | undefined, name: string): Promise<void> {
    const access = principal.require(principal.project(project).id, 'admin');
    await this.profiles.delete(access.id, name);
    this.audit.touched({ projectId: access.id, target: { type: 'profile', id: name } });
  }
}
