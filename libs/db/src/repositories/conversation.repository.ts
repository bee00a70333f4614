import {
  HangarError,
  type Conversation,
  type ConversationPage,
  type Message,
  type MessagePage,
} from '@hangar/contracts';
import type { PrismaClient } from '../generated/prisma/client';
import { keysetAfter, keysetPage } from './keyset-cursor';
import { DEFAULT_PROFILE } from './task.repository';

export interface AgentSessionFile {
  sessionId: string;
  relativePath: string;
  transcript: Buffer;
}

type ConversationRow = Awaited<ReturnType<PrismaClient['conversation']['findUniqueOrThrow']>> & {
  profile: { name: string } | null;
  project: { slug: string };
};

function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    project: row.project.slug,
    title: row.title,
    profile: row.profile?.name ?? null,
    repository: row.repository,
    ref: row.repositoryRef,
    agentSessionId: row.agentSessionId,
    workspace: row.workspace,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toMessage(row: {
  id: string;
  conversationId: string;
  role: 'user' | 'assistant';
  content: string;
  taskId: string | null;
  createdAt: Date;
}): Message {
  return { ...row, createdAt: row.createdAt.toISOString() };
}

const withProfile = {
  profile: { select: { name: true } },
  project: { select: { slug: true } },
} as const;

function notFound(id: string): HangarError {
  return new HangarError('CONVERSATION_NOT_FOUND', `conversation ${id} does not exist`, {
    conversationId: id,
  });
}

export class ConversationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(
    projectId: string,
    input: { title?: string; profile?: string; repository?: string; ref?: string },
  ): Promise<Conversation> {
    const name = input.profile ?? DEFAULT_PROFILE;
    const profile = await this.prisma.agentProfile.findUnique({
      where: { projectId_name: { projectId, name } },
    });
    if (!profile)
      throw new HangarError('UNKNOWN_PROFILE', `profile "${name}" does not exist`, { field: 'profile' });
    const row = await this.prisma.conversation.create({
      data: {
        projectId,
        profileId: profile.id,
        title: input.title ?? null,
        repository: input.repository ?? null,
        repositoryRef: input.ref ?? null,
      },
      include: withProfile,
    });
    return toConversation(row);
  }

  async get(id: string): Promise<Conversation> {
    const row = await this.prisma.conversation.findUnique({ where: { id }, include: withProfile });
    if (!row) throw notFound(id);
    return toConversation(row);
  }

  // What a caller may see: a conversation outside `projectIds` does not exist for it.
  async getVisible(id: string, projectIds: readonly string[]): Promise<Conversation & { projectId: string }> {
    const row = await this.prisma.conversation.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
      include: withProfile,
    });
    if (!row) throw notFound(id);
    return { ...toConversation(row), projectId: row.projectId };
  }

  // Most recently active first.
  async list(
    projectIds: readonly string[],
    page: { limit: number; cursor?: string | undefined },
  ): Promise<ConversationPage> {
    const rows = await this.prisma.conversation.findMany({
      where: {
        projectId: { in: [...projectIds] },
        ...keysetAfter('updatedAt', page.cursor),
      },
      orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
      take: page.limit + 1,
      include: withProfile,
    });
    const { page: items, nextCursor } = keysetPage(rows, page.limit, (row) => row.updatedAt);
    return { items: items.map(toConversation), nextCursor };
  }

  // The newest `limit` messages before the cursor, oldest first. Callers check visibility first
  // (getVisible).
  async messages(id: string, page: { limit: number; cursor?: string | undefined }): Promise<MessagePage> {
    const rows = await this.prisma.message.findMany({
      where: { conversationId: id, ...keysetAfter('createdAt', page.cursor) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit + 1,
    });
    const { page: items, nextCursor } = keysetPage(rows, page.limit, (row) => row.createdAt);
    return { items: items.reverse().map(toMessage), nextCursor };
  }

  // The unfinished turn, if any: a conversation runs one turn at a time, each resuming the last.
  async activeTaskId(id: string): Promise<string | null> {
    const task = await this.prisma.task.findFirst({
      where: { conversationId: id, status: { in: ['QUEUED', 'RUNNING'] } },
      select: { id: true },
    });
    return task?.id ?? null;
  }

  async addMessage(input: {
    conversationId: string;
    role: 'user' | 'assistant';
    content: string;
    taskId?: string | null;
  }): Promise<Message> {
    const row = await this.prisma.message.create({
      data: {
        conversationId: input.conversationId,
        role: input.role,
        content: input.content,
        taskId: input.taskId ?? null,
      },
    });
    await this.prisma.conversation.update({
      where: { id: input.conversationId },
      data: { updatedAt: new Date() },
    });
    return toMessage(row);
  }

  async setWorkspace(id: string, workspace: string): Promise<void> {
    await this.prisma.conversation.updateMany({ where: { id, workspace: null }, data: { workspace } });
  }

  async saveSession(id: string, file: AgentSessionFile): Promise<void> {
    // Prisma's Bytes wants a Uint8Array over a plain ArrayBuffer.
    const transcript = new Uint8Array(file.transcript);
    await this.prisma.$transaction([
      this.prisma.conversationSession.upsert({
        where: { conversationId: id },
        create: {
          conversationId: id,
          sessionId: file.sessionId,
          relativePath: file.relativePath,
          transcript,
        },
        update: { sessionId: file.sessionId, relativePath: file.relativePath, transcript },
      }),
      this.prisma.conversation.update({ where: { id }, data: { agentSessionId: file.sessionId } }),
    ]);
  }

  async loadSession(id: string): Promise<AgentSessionFile | null> {
    const row = await this.prisma.conversationSession.findUnique({ where: { conversationId: id } });
    return row
      ? { sessionId: row.sessionId, relativePath: row.relativePath, transcript: Buffer.from(row.transcript) }
      : null;
  }

  // Workspaces of conversations are kept with the conversation, not swept with tasks'.
  async workspaces(): Promise<string[]> {
    const rows = await this.prisma.conversation.findMany({
      where: { workspace: { not: null } },
      select: { workspace: true },
    });
    return rows.map((row) => row.workspace).filter((value): value is string => value !== null);
  }
}
