import { TaskNotFound, type TaskDiff } from '@hangar/contracts';
import type { PrismaClient } from '../generated/prisma/client';

export class TaskDiffRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async save(diff: TaskDiff): Promise<void> {
    const { taskId, ...fields } = diff;
    await this.prisma.taskDiff.upsert({ where: { taskId }, create: { taskId, ...fields }, update: fields });
  }

  async get(taskId: string): Promise<TaskDiff | null> {
    const row = await this.prisma.taskDiff.findUnique({ where: { taskId } });
    if (!row) {
      const exists = await this.prisma.task.count({ where: { id: taskId } });
      if (exists === 0) throw new TaskNotFound(taskId);
      return null;
    }
    return {
      taskId: row.taskId,
      unifiedDiff: row.unifiedDiff,
      truncated: row.truncated,
      files: row.files as TaskDiff['files'],
      linesAdded: row.linesAdded,
      linesRemoved: row.linesRemoved,
      commit: row.commit,
    };
  }
}
