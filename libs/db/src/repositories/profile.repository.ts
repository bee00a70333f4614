import {
  HangarError,
  type AgentProfile,
  type CreateProfileRequest,
  type UpdateProfileRequest,
} from '@hangar/contracts';
import { Prisma, type AgentProfile as ProfileRow, type PrismaClient } from '../generated/prisma/client';
import { DEFAULT_PROFILE } from './task.repository';

const withProject = { project: { select: { slug: true } } } as const;

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
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toColumns(input: UpdateProfileRequest): Prisma.AgentProfileUpdateInput {
  const { agents, skills, mcpServers, resources, ...rest } = input;
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

export class ProfileRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async list(projectId: string): Promise<AgentProfile[]> {
    const rows = await this.prisma.agentProfile.findMany({
      where: { projectId },
      orderBy: { name: 'asc' },
      include: withProject,
    });
    return rows.map(toProfile);
  }

  async get(projectId: string, name: string): Promise<AgentProfile> {
    const row = await this.prisma.agentProfile.findUnique({
      where: { projectId_name: { projectId, name } },
      include: withProject,
    });
    if (!row) throw notFound(name);
    return toProfile(row);
  }

  // The profile a task was created with (in the task's own project): what the runner applies.
  async ofTask(taskId: string): Promise<AgentProfile> {
    const row = await this.prisma.task.findUnique({
      where: { id: taskId },
      select: { profile: { include: withProject } },
    });
    if (!row) throw notFound(`of task ${taskId}`);
    return toProfile(row.profile);
  }

  async create(projectId: string, input: CreateProfileRequest): Promise<AgentProfile> {
    try {
      const row = await this.prisma.agentProfile.create({
        data: {
          ...(toColumns(input) as Prisma.AgentProfileCreateWithoutProjectInput),
          name: input.name,
          project: { connect: { id: projectId } },
        },
        include: withProject,
      });
      return toProfile(row);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new HangarError('PROFILE_EXISTS', `profile "${input.name}" exists already`, { field: 'name' });
      }
      throw error;
    }
  }

  async update(projectId: string, name: string, input: UpdateProfileRequest): Promise<AgentProfile> {
    const { count } = await this.prisma.agentProfile.updateMany({
      where: { projectId, name },
      data: toColumns(input),
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
}
