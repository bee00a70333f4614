import { TaskNotFound, type TaskDiff } from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { json, type Sql } from '../sql';

export class TaskDiffRepository {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // node-postgres (../sql.ts): every attempt's end records one, before its task is told finished.
  async save(diff: TaskDiff): Promise<void> {
    await this.sql.query(Prisma.sql`
      INSERT INTO task_diffs (task_id, unified_diff, truncated, files, lines_added, lines_removed, "commit")
      VALUES (${diff.taskId}, ${diff.unifiedDiff}, ${diff.truncated}, ${json(diff.files)}::jsonb,
        ${diff.linesAdded}, ${diff.linesRemoved}, ${diff.commit})
      ON CONFLICT (task_id) DO UPDATE SET unified_diff = excluded.unified_diff,
        truncated = excluded.truncated, files = excluded.files, lines_added = excluded.lines_added,
        lines_removed = excluded.lines_removed, "commit" = excluded."commit"`);
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
