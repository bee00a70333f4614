import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import {
  HangarError,
  type CreateProjectRequest,
  type GitHostList,
  type Member,
  type Project,
  type Role,
  type SetGitHostsRequest,
  type UpdateProjectRequest,
} from '@hangar/contracts';
import {
  ProjectGitHostRepository,
  ProjectRepository,
  UserRepository,
  userNotFound,
  type StoredGitHost,
} from '@hangar/db';
import { AuditTrail } from '../../common/audit-trail';
import { LiveSockets } from '../../common/live-sockets';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

// Projects are the unit of tenancy: instance administrators create them, project admins name
// their members and roles.
@Injectable()
export class ProjectsService {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly users: UserRepository,
    private readonly audit: AuditTrail,
    private readonly sockets: LiveSockets,
    private readonly gitHostList: ProjectGitHostRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  list(principal: Principal): Project[] {
    return principal.projects.map((project) => ({ ...project }));
  }

  get(principal: Principal, slug: string): Project {
    return { ...principal.project(slug) };
  }

  async create(principal: Principal, input: CreateProjectRequest): Promise<Project> {
    principal.requireInstanceAdmin();
    const owner = principal.user ? { userId: principal.user.id, role: 'admin' as const } : undefined;
    const created = await this.projects.create(input, owner);
    this.audit.touched({
      projectId: created.id,
      target: { type: 'project', id: created.id },
      details: { slug: created.slug, name: created.name },
    });
    return { ...created, role: 'admin' };
  }

  async update(principal: Principal, slug: string, input: UpdateProjectRequest): Promise<Project> {
    const access = principal.require(principal.project(slug).id, 'admin');
    const updated = await this.projects.update(access.id, input);
    this.audit.touched({ projectId: access.id, target: { type: 'project', id: access.id }, details: input });
    return { ...updated, role: access.role };
  }

  // Any member may see which hosts are allowed; credentials are write-only for every role.
  async gitHosts(principal: Principal, slug: string): Promise<GitHostList> {
    return this.toGitHostList(await this.gitHostList.list(principal.project(slug).id));
  }

  async setGitHosts(principal: Principal, slug: string, input: SetGitHostsRequest): Promise<GitHostList> {
    const access = principal.require(principal.project(slug).id, 'admin');
    const stored = await this.gitHostList.replace(access.id, input.items);
    // What changed, never a credential itself.
    this.audit.touched({
      projectId: access.id,
      target: { type: 'project', id: access.id },
      details: {
        gitHosts: stored.map((entry) => entry.host),
        credentialsSet: input.items.filter((entry) => entry.credential).map((entry) => entry.host),
        credentialsRemoved: input.items
          .filter((entry) => entry.credential === null)
          .map((entry) => entry.host),
      },
    });
    return this.toGitHostList(stored);
  }

  private toGitHostList(stored: StoredGitHost[]): GitHostList {
    return {
      items: stored.map((entry) => ({ host: entry.host, hasCredential: entry.credential !== null })),
      installationHosts: this.config.GIT_ALLOWED_HOSTS,
    };
  }

  async members(principal: Principal, slug: string): Promise<Member[]> {
    return this.users.members(principal.project(slug).id);
  }

  async setMember(principal: Principal, slug: string, userId: string, role: Role): Promise<Member> {
    const access = principal.require(principal.project(slug).id, 'admin');
    this.refuseSelfDemotion(principal, userId, role);
    const member = await this.users.setMember(access.id, userId, role);
    this.audit.touched({ projectId: access.id, target: { type: 'user', id: userId }, details: { role } });
    return member;
  }

  async removeMember(principal: Principal, slug: string, userId: string): Promise<void> {
    const access = principal.require(principal.project(slug).id, 'admin');
    this.refuseSelfDemotion(principal, userId, undefined);
    if (!(await this.users.removeMember(access.id, userId))) throw userNotFound(userId);
    // Their connections (and their tokens') were let in as members: they reconnect as what they are now.
    this.sockets.disconnect(`user:${userId}`);
    this.audit.touched({ projectId: access.id, target: { type: 'user', id: userId } });
  }

  // An admin who demotes or removes themselves could leave a project nobody can manage.
  private refuseSelfDemotion(principal: Principal, userId: string, role: Role | undefined) {
    if (principal.user?.id === userId && role !== 'admin' && !principal.isInstanceAdmin) {
      throw new HangarError('FORBIDDEN', 'you cannot lower or remove your own role; ask another admin', {
        field: 'role',
      });
    }
  }
}
