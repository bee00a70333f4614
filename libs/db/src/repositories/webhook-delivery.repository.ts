import { randomUUID } from 'node:crypto';
import {
  HangarError,
  ProviderRefSchema,
  TERMINAL_STATUSES,
  type DeliveryPage,
  type DeliveryStatus,
  type ProviderRef,
  type WebhookDelivery,
  type WebhookProvider,
} from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { keysetAfter, keysetPage } from './keyset-cursor';
import { projectSlugs } from './project.repository';

// A rejected delivery never holds its claimed id: a forged delivery must not block the real one.
const REJECTED_ID = 'rejected:';

export interface DeliverySource {
  // A configuration id, or static:<provider>.
  source: string;
  configId: string | null;
  projectId: string;
  provider: WebhookProvider;
}

export interface DeliveryRecord extends DeliverySource {
  id: string;
  deliveryId: string;
  event: string | null;
  status: DeliveryStatus;
  payload: Record<string, unknown> | null;
  receivedAt: Date;
}

type DeliveryRow = Awaited<ReturnType<PrismaClient['webhookDelivery']['findUniqueOrThrow']>>;

function toView(row: DeliveryRow, slugs: Map<string, string>): WebhookDelivery {
  return {
    id: row.id,
    webhook: row.configId,
    project: row.projectId ? (slugs.get(row.projectId) ?? null) : null,
    provider: row.provider as WebhookProvider,
    deliveryId: row.deliveryId.startsWith(REJECTED_ID) ? null : row.deliveryId,
    event: row.event,
    status: row.status as DeliveryStatus,
    reason: row.reason,
    command: row.command,
    taskId: row.taskId,
    conversationId: row.conversationId,
    duplicates: row.duplicates,
    receivedAt: row.receivedAt.toISOString(),
    processedAt: row.processedAt?.toISOString() ?? null,
    payload: row.payload ?? null,
  };
}

export function deliveryNotFound(id: string): HangarError {
  return new HangarError('DELIVERY_NOT_FOUND', `webhook delivery ${id} does not exist`, { deliveryId: id });
}

export class WebhookDeliveryRepository {
  constructor(private readonly prisma: PrismaClient) {}

  // What is kept of a delivery whose signature did not verify: that it came, and why it was
  // refused. Not its body.
  async recordRejected(source: DeliverySource, details: { event?: string; reason: string }): Promise<void> {
    await this.prisma.webhookDelivery.create({
      data: {
        ...source,
        deliveryId: `${REJECTED_ID}${randomUUID()}`,
        event: details.event ?? null,
        status: 'rejected',
        reason: details.reason,
        processedAt: new Date(),
      },
    });
  }

  // Records a verified delivery once. A duplicate is the same provider id again, or the same
  // signed body again within the replay window whatever id it claims: the id header is not
  // signed, so a captured delivery with a fresh id is still the same delivery.
  async accept(
    source: DeliverySource,
    delivery: {
      deliveryId: string;
      event: string | null;
      payload: Record<string, unknown>;
      bodySha256: string;
      replayWindowMs: number;
    },
  ): Promise<{ kind: 'new' | 'duplicate'; id: string }> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const sameId = await tx.webhookDelivery.findUnique({
          where: { source_deliveryId: { source: source.source, deliveryId: delivery.deliveryId } },
          select: { id: true },
        });
        if (sameId) return this.countDuplicate(tx, sameId.id);
        // Two copies of one body at the same instant: the second waits for the first one's row.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${source.source}:${delivery.bodySha256}`}, 0))`;
        const sameBody = await tx.webhookDelivery.findFirst({
          where: {
            source: source.source,
            bodySha256: delivery.bodySha256,
            receivedAt: { gte: new Date(Date.now() - delivery.replayWindowMs) },
          },
          orderBy: { receivedAt: 'asc' },
          select: { id: true },
        });
        if (sameBody) return this.countDuplicate(tx, sameBody.id);
        const row = await tx.webhookDelivery.create({
          data: {
            ...source,
            deliveryId: delivery.deliveryId,
            event: delivery.event,
            status: 'queued',
            payload: delivery.payload as Prisma.InputJsonObject,
            bodySha256: delivery.bodySha256,
          },
          select: { id: true },
        });
        return { kind: 'new' as const, id: row.id };
      });
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
    }
    // The same id recorded by another request meanwhile.
    const row = await this.prisma.webhookDelivery.findUniqueOrThrow({
      where: { source_deliveryId: { source: source.source, deliveryId: delivery.deliveryId } },
      select: { id: true },
    });
    return this.countDuplicate(this.prisma, row.id);
  }

  private async countDuplicate(
    client: Pick<PrismaClient, 'webhookDelivery'>,
    id: string,
  ): Promise<{ kind: 'duplicate'; id: string }> {
    await client.webhookDelivery.update({ where: { id }, data: { duplicates: { increment: 1 } } });
    return { kind: 'duplicate', id };
  }

  // A verified delivery that needs no work (a Slack URL check): kept, already done.
  async recordHandled(
    source: DeliverySource,
    delivery: { deliveryId: string; event: string | null; reason: string },
  ): Promise<void> {
    await this.prisma.webhookDelivery.upsert({
      where: { source_deliveryId: { source: source.source, deliveryId: delivery.deliveryId } },
      create: {
        ...source,
        deliveryId: delivery.deliveryId,
        event: delivery.event,
        status: 'ignored',
        reason: delivery.reason,
        processedAt: new Date(),
      },
      update: { duplicates: { increment: 1 } },
    });
  }

  async find(id: string): Promise<DeliveryRecord | null> {
    const row = await this.prisma.webhookDelivery.findUnique({ where: { id } });
    if (!row || row.projectId === null) return null;
    return {
      id: row.id,
      source: row.source,
      configId: row.configId,
      projectId: row.projectId,
      provider: row.provider as WebhookProvider,
      deliveryId: row.deliveryId,
      event: row.event,
      status: row.status as DeliveryStatus,
      payload: (row.payload as Record<string, unknown> | null) ?? null,
      receivedAt: row.receivedAt,
    };
  }

  async settle(
    id: string,
    outcome: {
      status: Exclude<DeliveryStatus, 'queued' | 'rejected'>;
      reason?: string | null;
      command?: string | null;
      taskId?: string | null;
      conversationId?: string | null;
    },
  ): Promise<void> {
    await this.prisma.webhookDelivery.update({
      where: { id },
      data: {
        status: outcome.status,
        reason: outcome.reason ?? null,
        command: outcome.command ?? null,
        taskId: outcome.taskId ?? null,
        conversationId: outcome.conversationId ?? null,
        processedAt: outcome.status === 'waiting' ? null : new Date(),
      },
    });
  }

  // Back to the queue, to be processed again.
  async requeue(id: string): Promise<void> {
    await this.prisma.webhookDelivery.update({
      where: { id },
      data: { status: 'queued', reason: null, processedAt: null },
    });
  }

  // Deliveries accepted but never taken by a worker (the queue was away): handed out again.
  async unprocessed(olderThan: Date, limit = 200): Promise<string[]> {
    const rows = await this.prisma.webhookDelivery.findMany({
      where: { status: 'queued', receivedAt: { lt: olderThan } },
      orderBy: { receivedAt: 'asc' },
      take: limit,
      select: { id: true },
    });
    return rows.map((row) => row.id);
  }

  async count(where: { status?: DeliveryStatus } = {}): Promise<number> {
    return this.prisma.webhookDelivery.count({ where });
  }

  async getVisible(id: string, projectIds: readonly string[]): Promise<WebhookDelivery> {
    const row = await this.prisma.webhookDelivery.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
    });
    if (!row) throw deliveryNotFound(id);
    return toView(row, await projectSlugs(this.prisma, [row.projectId]));
  }

  // Newest first. `webhook`: a configuration id, or `static` for the static receivers.
  async list(
    projectIds: readonly string[],
    query: {
      webhook?: string | undefined;
      provider?: WebhookProvider | undefined;
      status?: DeliveryStatus | undefined;
      limit: number;
      cursor?: string | undefined;
    },
  ): Promise<DeliveryPage> {
    const rows = await this.prisma.webhookDelivery.findMany({
      where: {
        AND: [
          { projectId: { in: [...projectIds] } },
          query.webhook === 'static'
            ? { configId: null }
            : query.webhook !== undefined
              ? { configId: query.webhook }
              : {},
          query.provider ? { provider: query.provider } : {},
          query.status ? { status: query.status } : {},
          keysetAfter('receivedAt', query.cursor),
        ],
      },
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => row.receivedAt);
    const slugs = await projectSlugs(
      this.prisma,
      page.map((row) => row.projectId),
    );
    return {
      items: page.map((row) => toView(row, slugs)),
      nextCursor,
    };
  }

  // The conversation that answers a provider thread, if one does.
  async threadConversation(source: string, threadKey: string): Promise<string | null> {
    const row = await this.prisma.webhookThread.findUnique({
      where: { source_threadKey: { source, threadKey } },
      select: { conversationId: true },
    });
    return row?.conversationId ?? null;
  }

  // Binds a thread to a conversation; when another delivery bound it first, answers theirs.
  async bindThread(source: string, threadKey: string, conversationId: string): Promise<string> {
    try {
      await this.prisma.webhookThread.create({ data: { source, threadKey, conversationId } });
      return conversationId;
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
      return (await this.threadConversation(source, threadKey)) ?? conversationId;
    }
  }

  async owesReply(input: {
    taskId: string;
    deliveryId: string;
    source: string;
    target: ProviderRef;
  }): Promise<void> {
    await this.prisma.webhookReply.create({
      data: { ...input, target: input.target },
    });
  }

  // Replies whose task has finished and that were not sent yet.
  async dueReplies(limit = 100): Promise<string[]> {
    const pending = await this.prisma.webhookReply.findMany({
      where: { status: 'pending' },
      orderBy: { createdAt: 'asc' },
      take: 1000,
      select: { taskId: true },
    });
    if (pending.length === 0) return [];
    const finished = await this.prisma.task.findMany({
      where: { id: { in: pending.map((row) => row.taskId) }, status: { in: [...TERMINAL_STATUSES] } },
      select: { id: true },
      take: limit,
    });
    return finished.map((row) => row.id);
  }

  async reply(taskId: string): Promise<{ source: string; target: ProviderRef; status: string } | null> {
    const row = await this.prisma.webhookReply.findUnique({ where: { taskId } });
    return row
      ? { source: row.source, target: ProviderRefSchema.parse(row.target), status: row.status }
      : null;
  }

  async replySent(taskId: string, attempts: number): Promise<void> {
    await this.prisma.webhookReply.update({
      where: { taskId },
      data: { status: 'sent', sentAt: new Date(), attempts, error: null },
    });
  }

  async replyFailed(taskId: string, attempts: number, error: string, final: boolean): Promise<void> {
    await this.prisma.webhookReply.update({
      where: { taskId },
      data: { attempts, error, ...(final ? { status: 'failed' } : {}) },
    });
  }
}
