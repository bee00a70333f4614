import {
  APPROVALS_OFF,
  ApprovalPolicySchema,
  DELEGATION_OFF,
  DelegationSettingsSchema,
  HangarError,
  type AgentProfile,
  type AgentProfileView,
  type CreateProfileRequest,
  type McpServer,
  type UpdateProfileRequest,
} from '@hangar/contracts';
import { Prisma, type AgentProfile as ProfileRow, type PrismaClient } from '../generated/prisma/client';
import { sqlOf } from '../client';
import type { Sql } from '../sql';
import { resolveMcpSecrets, toProfileView } from './profile-secrets';
import { DEFAULT_PROFILE } from './task.repository';

const withProject = { project: { select: { slug: true } } } as const;

// A profile row's columns (of `p`) as toProfile reads them, for a statement written by hand (ofTask):
// a column added to the model is added here too (profile-conversation.repository.spec.ts compares
// the runner's profile with Prisma's read of it, field for field).
const PROFILE_COLUMNS = Prisma.raw(`p.id, p.project_id AS "projectId", p.name, p.provider, p.model,
  p.append_system_prompt AS "appendSystemPrompt", p.permission_mode AS "permissionMode",
  p.max_turns AS "maxTurns", p.timeout_seconds AS "timeoutSeconds",
  p.allowed_tools AS "allowedTools", p.disallowed_tools AS "disallowedTools",
  p.mcp_servers AS "mcpServers", p.agent_files AS "agentFiles", p.skill_files AS "skillFiles",
  p.max_output_bytes AS "maxOutputBytes", p.resources,
  p.trust_repository_settings AS "trustRepositorySettings",
  p.internet_access AS "internetAccess", p.telemetry_content AS "telemetryContent",
  p.delegation, p.approvals, p.warm, p.created_at AS "createdAt", p.updated_at AS "updatedAt"`);

// With its secrets: only the runner gets a profile like this (ofTask); answers get toProfileView.
export function toProfile(row: ProfileRow & { project: { slug: string } }): AgentProfile {
  return {
    name: row.name,
    project: row.project.slug,
    provider: row.provider as AgentProfile['provider'],
    model: row.model,
    appendSystemPrompt: row.appendSystemPrompt,
    allowedTools: row.allowedTools,
    disallowedTools: row.disallowedTools,
    permissionMode: row.permissionMode,
    maxTurns: row.maxTurns,
    timeoutSeconds: row.timeoutSeconds,
    maxOutputBytes: row.maxOutputBytes,
    resources: (row.resources ?? null) as AgentProfile['resources'],
    mcpServers: row.mcpServers as AgentProfile['mcpServers'],
    agents: row.agentFiles as AgentProfile['agents'],
    skills: row.skillFiles as AgentProfile['skills'],
    trustRepositorySettings: row.trustRepositorySettings,
    internetAccess: row.internetAccess,
    telemetryContent: row.telemetryContent,
    // Null (never set) is off; a stored setting is read with today's defaults.
    delegation: row.delegation === null ? DELEGATION_OFF : DelegationSettingsSchema.parse(row.delegation),
    approvals: row.approvals === null ? APPROVALS_OFF : ApprovalPolicySchema.parse(row.approvals),
    warm: row.warm,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

// `mcpServers` comes with its secrets resolved (resolveMcpSecrets).
function toColumns(
  input: Omit<UpdateProfileRequest, 'mcpServers'>,
  mcpServers: Record<string, McpServer> | undefined,
): Prisma.AgentProfileUpdateInput {
  const { agents, skills, resources, ...rest } = input;
  return {
    ...rest,
    ...(resources !== undefined ? { resources: resources ?? Prisma.DbNull } : {}),
    ...(mcpServers !== undefined ? { mcpServers } : {}),
    ...(agents !== undefined ? { agentFiles: agents } : {}),
    ...(skills !== undefined ? { skillFiles: skills } : {}),
  };
}

function notFound(name: string): HangarError {
  return new HangarError('PROFILE_NOT_FOUND', `profile "${name}" does not exist`, { profile: name });
}

// Profiles as the API shows them (secrets as {"set": true}), and as the runner applies them.
export class ProfileRepository {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  async list(projectId: string): Promise<AgentProfileView[]> {
    const rows = await this.prisma.agentProfile.findMany({
      where: { projectId },
      orderBy: { name: 'asc' },
      include: withProject,
    });
    return rows.map((row) => toProfileView(toProfile(row)));
  }

  async get(projectId: string, name: string): Promise<AgentProfileView> {
    return toProfileView(await this.stored(projectId, name));
  }

  // The profile a task was created with (in the task's own project), secrets included: what the
  // runner applies.
  async ofTask(taskId: string): Promise<AgentProfile> {
    return (await this.ofTaskWithId(taskId)).profile;
  }

  // The same with its id (the kubernetes executor's warm Jobs are labelled with it).
  async ofTaskWithId(taskId: string): Promise<{ id: string; profile: AgentProfile }> {
    // One node-postgres statement (../sql.ts): every claim reads it, on the way to its CLI's start,
    // where Prisma took two (the profile, its project) with ~5 ms between them on a busy runner.
    const [row] = await this.sql.query<ProfileRow & { projectSlug: string }>(Prisma.sql`
      SELECT ${PROFILE_COLUMNS}, pr.slug AS "projectSlug"
      FROM tasks t
      JOIN agent_profiles p ON p.id = t.profile_id
      JOIN projects pr ON pr.id = p.project_id
      WHERE t.id = ${taskId}`);
    if (!row) throw notFound(`of task ${taskId}`);
    const { projectSlug, ...profile } = row;
    return { id: row.id, profile: toProfile({ ...profile, project: { slug: projectSlug } }) };
  }

  // A profile by its id, secrets included (a warm task pod starts its CLI with it); null if gone.
  async byId(id: string): Promise<AgentProfile | null> {
    const row = await this.prisma.agentProfile.findUnique({ where: { id }, include: withProject });
    return row ? toProfile(row) : null;
  }

  // The Claude Code profiles runners keep warm CLIs for (docs/performance.md), each with how many:
  // its own `warm`, or `fallback` (RUNNER_WARM_DEFAULT) where it sets none. Those that set their
  // own come first, then the most recently changed; `limit` rows at most.
  async wantingWarm(
    fallback: number,
    limit: number,
  ): Promise<{ id: string; profile: AgentProfile; warm: number }[]> {
    if (limit <= 0) return [];
    const rows = await this.prisma.agentProfile.findMany({
      where: {
        provider: 'claude',
        ...(fallback > 0 ? { OR: [{ warm: { gt: 0 } }, { warm: null }] } : { warm: { gt: 0 } }),
      },
      orderBy: [{ warm: { sort: 'desc', nulls: 'last' } }, { updatedAt: 'desc' }],
      take: limit,
      include: withProject,
    });
    return rows.map((row) => ({ id: row.id, profile: toProfile(row), warm: row.warm ?? fallback }));
  }

  async create(projectId: string, input: CreateProfileRequest): Promise<AgentProfileView> {
    const { mcpServers, ...fields } = input;
    // Nothing is stored yet: every secret needs its value.
    const servers = mcpServers === undefined ? undefined : resolveMcpSecrets(mcpServers, {});
    try {
      const row = await this.prisma.agentProfile.create({
        data: {
          ...(toColumns(fields, servers) as Prisma.AgentProfileCreateWithoutProjectInput),
          name: input.name,
          project: { connect: { id: projectId } },
        },
        include: withProject,
      });
      return toProfileView(toProfile(row));
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new HangarError('PROFILE_EXISTS', `profile "${input.name}" exists already`, { field: 'name' });
      }
      throw error;
    }
  }

  async update(projectId: string, name: string, input: UpdateProfileRequest): Promise<AgentProfileView> {
    const { mcpServers, ...fields } = input;
    const servers =
      mcpServers === undefined
        ? undefined
        : resolveMcpSecrets(mcpServers, (await this.stored(projectId, name)).mcpServers);
    const { count } = await this.prisma.agentProfile.updateMany({
      where: { projectId, name },
      data: toColumns(fields, servers),
    });
    if (count === 0) throw notFound(name);
    return this.get(projectId, name);
  }

  // Tasks keep the profile they ran with: a profile with tasks cannot go.
  async delete(projectId: string, name: string): Promise<void> {
    if (name === DEFAULT_PROFILE) {
      throw new HangarError('PROFILE_IN_USE', 'the default profile cannot be deleted; change it instead');
    }
    const row = await this.prisma.agentProfile.findUnique({
      where: { projectId_name: { projectId, name } },
      include: { _count: { select: { tasks: true } } },
    });
    if (!row) throw notFound(name);
    if (row._count.tasks > 0) {
      throw new HangarError(
        'PROFILE_IN_USE',
        `profile "${name}" is used by ${row._count.tasks} task(s); it cannot be deleted`,
      );
    }
    await this.prisma.agentProfile.delete({ where: { id: row.id } });
  }

  // The profile's id (a budget names its profile by it); PROFILE_NOT_FOUND when there is none.
  // The models profiles name (each with the profiles that name it, as `project/profile`).
  async modelsInUse(): Promise<Map<string, string[]>> {
    const rows = await this.prisma.agentProfile.findMany({
      where: { model: { not: null } },
      select: { name: true, model: true, project: { select: { slug: true } } },
      orderBy: [{ projectId: 'asc' }, { name: 'asc' }],
    });
    const models = new Map<string, string[]>();
    for (const row of rows)
      models.set(row.model!, [...(models.get(row.model!) ?? []), `${row.project.slug}/${row.name}`]);
    return models;
  }

  async idOf(projectId: string, name: string): Promise<string> {
    const row = await this.prisma.agentProfile.findUnique({
      where: { projectId_name: { projectId, name } },
      select: { id: true },
    });
    if (!row) throw notFound(name);
    return row.id;
  }

  private async stored(projectId: string, name: string): Promise<AgentProfile> {
    const row = await this.prisma.agentProfile.findUnique({
      where: { projectId_name: { projectId, name } },
      include: withProject,
    });
    if (!row) throw notFound(name);
    return toProfile(row);
  }
}
