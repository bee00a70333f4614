import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { sqlOf } from '../client';

// The rows of project_task_counts (migration 20261216000000_project_task_counts): each statement
// that changed a project's active tasks added one, and reading the counts sums them. Folding a
// project's rows into one keeps that a few rows however busy it is; the orchestrator does it
// every few seconds. Safe beside readers (a snapshot sees the rows before or the row after) and
// beside another fold (rows the other deleted are skipped; the row it added is not in this one's
// snapshot, so not deleted).
export class ProjectTaskCounts {
  constructor(private readonly prisma: PrismaClient) {}

  // Returns how many rows were folded away.
  async fold(): Promise<number> {
    const [result] = await sqlOf(this.prisma).query<{ folded: number }>(Prisma.sql`
      WITH folded AS (
        DELETE FROM project_task_counts
        WHERE project_id IN (SELECT project_id FROM project_task_counts GROUP BY project_id HAVING count(*) > 1)
        RETURNING project_id, queued, running
      ), kept AS (
        INSERT INTO project_task_counts (project_id, queued, running)
        SELECT project_id, sum(queued), sum(running) FROM folded
        GROUP BY project_id HAVING sum(queued) <> 0 OR sum(running) <> 0
        RETURNING 1
      )
      SELECT ((SELECT count(*) FROM folded) - (SELECT count(*) FROM kept))::int AS folded`);
    return result?.folded ?? 0;
  }
}
