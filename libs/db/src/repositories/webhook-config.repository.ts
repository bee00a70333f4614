import {
  GithubAuthorAssociationSchema,
  HangarError,
  WebhookCommandSchema,
  WebhookCredentialsSchema,
  type GithubAuthorAssociation,
  type WebhookCommand,
  type WebhookCredentials,
  type WebhookProvider,
} from '@hangar/contracts';
import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client';

// A configuration with its secrets: for the receivers and the gateway's own checks, never an answer.
export interface WebhookConfigRecord {
  id: string;
  projectId: string;
  project: string;
  provider: WebhookProvider;
  name: string;
  secret: string;
  credentials: WebhookCredentials;
  apiUrl: string | null;
  prefix: string;
  commands: WebhookCommand[];
  enabled: boolean;
  // GitHub: whose comments, issues and pull requests it acts on.
  authorAssociations: GithubAuthorAssociation[];
  createdAt: string;
  updatedAt: string;
}

const withProject = { project: { select: { slug: true } } } as const;
type ConfigRow = Awaited<ReturnType<PrismaClient['webhookConfig']['findUniqueOrThrow']>> & {
  project: { slug: string };
};

function toRecord(row: ConfigRow): WebhookConfigRecord {
  return {
    id: row.id,
    projectId: row.projectId,
    project: row.project.slug,
    provider: row.provider as WebhookProvider,
    name: row.name,
    secret: row.secret,
    // Stored by this code from the same schemas; parsed again so a bad row fails loudly here.
    credentials: WebhookCredentialsSchema.parse(row.credentials),
    apiUrl: row.apiUrl,
    prefix: row.prefix,
    commands: z.array(WebhookCommandSchema).parse(row.commands),
    enabled: row.enabled,
    authorAssociations: z.array(GithubAuthorAssociationSchema).parse(row.authorAssociations),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function webhookNotFound(id: string): HangarError {
  return new HangarError('WEBHOOK_NOT_FOUND', `webhook ${id} does not exist`, { webhookId: id });
}

export class WebhookConfigRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: {
    projectId: string;
    provider: WebhookProvider;
    name: string;
    secret: string;
    credentials: WebhookCredentials;
    apiUrl: string | null;
    prefix: string;
    commands: WebhookCommand[];
    enabled: boolean;
    authorAssociations?: GithubAuthorAssociation[] | undefined;
  }): Promise<WebhookConfigRecord> {
    const row = await this.prisma.webhookConfig.create({
      data: {
        ...input,
        credentials: input.credentials,
        commands: input.commands,
      },
      include: withProject,
    });
    return toRecord(row);
  }

  // For the receiver: any project (the URL carries the id).
  async find(id: string): Promise<WebhookConfigRecord | null> {
    const row = await this.prisma.webhookConfig.findUnique({ where: { id }, include: withProject });
    return row ? toRecord(row) : null;
  }

  async getVisible(id: string, projectIds: readonly string[]): Promise<WebhookConfigRecord> {
    const row = await this.prisma.webhookConfig.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
      include: withProject,
    });
    if (!row) throw webhookNotFound(id);
    return toRecord(row);
  }

  async list(projectIds: readonly string[]): Promise<WebhookConfigRecord[]> {
    const rows = await this.prisma.webhookConfig.findMany({
      where: { projectId: { in: [...projectIds] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: withProject,
    });
    return rows.map(toRecord);
  }

  async update(
    id: string,
    changes: Partial<
      Pick<
        WebhookConfigRecord,
        | 'name'
        | 'secret'
        | 'credentials'
        | 'apiUrl'
        | 'prefix'
        | 'commands'
        | 'enabled'
        | 'authorAssociations'
      >
    >,
  ): Promise<WebhookConfigRecord> {
    const { credentials, commands, ...rest } = changes;
    const row = await this.prisma.webhookConfig.update({
      where: { id },
      data: {
        ...rest,
        ...(credentials !== undefined ? { credentials: credentials } : {}),
        ...(commands !== undefined ? { commands: commands } : {}),
      },
      include: withProject,
    });
    return toRecord(row);
  }

  async delete(id: string): Promise<void> {
    await this.prisma.webhookConfig.delete({ where: { id } });
  }
}
