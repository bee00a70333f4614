import type { TaskPriority } from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

// The project's `count` first waiting tasks, high priority first then oldest, marked admitted.
function admitWaiting(projectId: string, count: number): Prisma.Sql {
  return Prisma.sql`
    UPDATE tasks SET admitted_at = now()
    WHERE id IN (
      SELECT id FROM tasks
      WHERE project_id = ${projectId} AND status = 'QUEUED' AND admitted_at IS NULL
      ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END, created_at, id
      LIMIT ${count}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id, attempts, priority`;
}

export interface AdmittedTask {
  id: string;
  attempts: number;
  priority: TaskPriority;
}

// The orchestrator's scheduling bookkeeping: which QUEUED tasks have been put on the runners'
// queue (admitted), within each project's cap of active tasks. Not a task's state (that is
// TaskLifecycle's): a task waiting for admission is QUEUED all the same.
export class TaskAdmission {
  constructor(private readonly prisma: PrismaClient) {}

  // Admits the project's waiting tasks, high priority first then oldest, as far as its cap of
  // active (admitted QUEUED and RUNNING) tasks allows; `cap` 0 is no cap. Two orchestrators
  // admitting for one project take turns (a transaction-scoped advisory lock), so the cap holds.
  async admit(projectId: string, cap: number, limit = 500): Promise<AdmittedTask[]> {
    // Without a cap there is nothing to count: one statement admits what waits.
    if (cap === 0) return this.prisma.$queryRaw<AdmittedTask[]>(admitWaiting(projectId, limit));
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`hangar-admit:${projectId}`}))`;
      const [{ active }] = await tx.$queryRaw<[{ active: number }]>`
        SELECT count(*)::int AS active FROM tasks
        WHERE project_id = ${projectId} AND status IN ('QUEUED', 'RUNNING') AND admitted_at IS NOT NULL`;
      const room = Math.min(limit, cap - active);
      if (room <= 0) return [];
      return tx.$queryRaw<AdmittedTask[]>(admitWaiting(projectId, room));
    });
  }

  // Projects with tasks waiting for admission (the reconciler's pass).
  async waitingProjects(): Promise<string[]> {
    const rows = await this.prisma.task.findMany({
      where: { status: 'QUEUED', admittedAt: null },
      select: { projectId: true },
      distinct: ['projectId'],
    });
    return rows.map((row) => row.projectId);
  }

  // Admitted tasks still QUEUED: on the runners' queue, or to be put back on it (a lost message,
  // a Redis restart).
  async admittedQueued(limit = 500): Promise<AdmittedTask[]> {
    const rows = await this.prisma.task.findMany({
      where: { status: 'QUEUED', admittedAt: { not: null } },
      orderBy: { createdAt: 'asc' },
      take: limit,
      select: { id: true, attempts: true, priority: true },
    });
    return rows.map((row) => ({ ...row, priority: row.priority as TaskPriority }));
  }
}
