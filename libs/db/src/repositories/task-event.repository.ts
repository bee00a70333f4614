import type { TaskEvent } from '@hangar/contracts';
import type { Prisma, PrismaClient } from '../generated/prisma/client';

export class TaskEventRepository {
  constructor(private readonly prisma: PrismaClient) {}

  // Idempotent: a batch written twice (retry after a lost reply) leaves one copy of each seq.
  async insertBatch(events: TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    const taskId = events[0]!.taskId;
    const maxSeq = Math.max(...events.map((event) => event.seq));
    await this.prisma.$transaction([
      this.prisma.taskEvent.createMany({
        data: events.map((event) => ({
          taskId: event.taskId,
          seq: event.seq,
          type: event.type,
          // Event data is JSON by construction (parsed from the CLI, or built from contracts).
          data: event.data as Prisma.InputJsonValue,
          at: new Date(event.at),
        })),
        skipDuplicates: true,
      }),
      this.prisma.task.updateMany({
        where: { id: taskId, lastSeq: { lt: maxSeq } },
        data: { lastSeq: maxSeq },
      }),
    ]);
  }

  async listAfter(taskId: string, afterSeq: number, limit = 1000): Promise<TaskEvent[]> {
    const rows = await this.prisma.taskEvent.findMany({
      where: { taskId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
    });
    return rows.map(
      (row) =>
        ({
          taskId: row.taskId,
          seq: row.seq,
          type: row.type,
          data: row.data,
          at: row.at.toISOString(),
        }) as TaskEvent,
    );
  }
}
