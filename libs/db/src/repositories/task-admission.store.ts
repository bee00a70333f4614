import type { Provider, RoutingStrategy, TaskPriority, TraceContext } from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Sql } from '../sql';

// What routing needs of an admitted task (docs/routing.md), read with it in the same statement.
export interface AdmittedTask {
  id: string;
  attempts: number;
  priority: TaskPriority;
  projectId: string;
  profileId: string;
  provider: Provider;
  requires: string[];
  // The task's own strategy (a workflow's) or its project's; null: the installation's.
  strategy: RoutingStrategy | null;
  // Whose strategy it is: `run:<workflow run id>` or `project:<project id>` (round-robin
  // rotates per scope).
  scope: string;
  // Where it was routed before (a retry, a reconciler's pass); null: not yet.
  pool: string | null;
  // The runner holding the workspace it works in (tasks.workspace_of), if it shares one.
  workspaceOf: string | null;
  workspaceRunner: string | null;
  // The trace of the request that created it (tasks.trace): its job carries it on when no
  // message's does.
  trace: TraceContext | null;
}

// What routing needs beyond a task's own columns, for the task rows named `alias` (tasks'
// columns): its profile's provider, its strategy and whose it is, and the runner holding the
// workspace it shares.
export function routingExtras(alias: string): Prisma.Sql {
  return Prisma.raw(`
    (SELECT provider FROM agent_profiles WHERE id = ${alias}.profile_id) AS provider,
    COALESCE(${alias}.routing, (SELECT routing_strategy FROM projects WHERE id = ${alias}.project_id)) AS strategy,
    CASE WHEN ${alias}.routing IS NOT NULL AND ${alias}.workflow_run_id IS NOT NULL
      THEN 'run:' || ${alias}.workflow_run_id ELSE 'project:' || ${alias}.project_id END AS scope,
    (SELECT runner_id FROM tasks w WHERE w.id = ${alias}.workspace_of) AS "workspaceRunner"`);
}

// `rows` (a statement answering tasks' id, attempts, priority, project_id, profile_id, requires,
// routing, pool, workspace_of, workflow_run_id, trace) with the rest of what routing needs.
function withRoutingFacts(rows: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    WITH chosen AS (${rows})
    SELECT c.id, c.attempts, c.priority, c.project_id AS "projectId", c.profile_id AS "profileId",
      c.requires, c.pool, c.workspace_of AS "workspaceOf", c.trace, ${routingExtras('c')}
    FROM chosen c`;
}

const ROUTING_COLUMNS = Prisma.sql`id, attempts, priority, project_id, profile_id, requires, routing, pool, workspace_of, workflow_run_id, trace`;

// The project's `count` first waiting tasks, high priority first then oldest, marked admitted;
// those of the `held` providers (their quota spent) wait on.
// (Exported for the test of its plan: it must read only the tasks waiting for admission.)
export function admitWaiting(projectId: string, count: number, held: readonly string[]): Prisma.Sql {
  return withRoutingFacts(Prisma.sql`
    UPDATE tasks SET admitted_at = now(), waiting_reason = NULL, waiting_until = NULL
    WHERE id IN (
      SELECT id FROM tasks
      WHERE project_id = ${projectId} AND status = 'QUEUED' AND admitted_at IS NULL
        ${
          held.length > 0
            ? Prisma.sql`AND (SELECT provider FROM agent_profiles p WHERE p.id = tasks.profile_id) <> ALL(${[...held]})`
            : Prisma.empty
        }
      ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END, created_at, id
      LIMIT ${count}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING ${ROUTING_COLUMNS}`);
}

export interface PoolHistory {
  pool: string;
  completed: number;
  finished: number;
  meanDurationMs: number | null;
}

// The orchestrator's scheduling bookkeeping: which QUEUED tasks have been put on the runners'
// queue (admitted), within each project's cap of active tasks. Not a task's state (that is
// TaskLifecycle's): a task waiting for admission is QUEUED all the same.
//
// Admission and routing are on the path from a workflow step's end to its next task's job:
// their statements are node-postgres ones (../sql.ts).
export class TaskAdmission {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // Admits the project's waiting tasks, high priority first then oldest, as far as its cap of
  // active (admitted QUEUED and RUNNING) tasks allows; `cap` 0 is no cap. Two orchestrators
  // admitting for one project take turns (a transaction-scoped advisory lock), so the cap holds.
  // Tasks of the `held` providers are not admitted (docs/governance.md: provider quota).
  async admit(
    projectId: string,
    cap: number,
    limit = 500,
    held: readonly string[] = [],
  ): Promise<AdmittedTask[]> {
    // Without a cap there is nothing to count: one statement admits what waits.
    if (cap === 0) return this.sql.query<AdmittedTask>(admitWaiting(projectId, limit, held));
    return this.sql.transaction(async (tx) => {
      await tx.query(Prisma.sql`SELECT pg_advisory_xact_lock(hashtext(${`hangar-admit:${projectId}`}))`);
      const [{ active }] = (await tx.query<{ active: number }>(Prisma.sql`
        SELECT count(*)::int AS active FROM tasks
        WHERE project_id = ${projectId} AND status IN ('QUEUED', 'RUNNING') AND admitted_at IS NOT NULL`)) as [
        { active: number },
      ];
      const room = Math.min(limit, cap - active);
      if (room <= 0) return [];
      return tx.query<AdmittedTask>(admitWaiting(projectId, room, held));
    });
  }

  // The project's tasks waiting for admission whose profile's provider is `provider`.
  async waitingFor(projectId: string, provider: string): Promise<string[]> {
    const rows = await this.prisma.task.findMany({
      where: { projectId, status: 'QUEUED', admittedAt: null, profile: { provider } },
      select: { id: true },
    });
    return rows.map((row) => row.id);
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
    return this.prisma.$queryRaw<AdmittedTask[]>(
      withRoutingFacts(Prisma.sql`
        SELECT ${ROUTING_COLUMNS} FROM tasks
        WHERE status = 'QUEUED' AND admitted_at IS NOT NULL
        ORDER BY created_at LIMIT ${limit}`),
    );
  }

  // These QUEUED tasks (a lost attempt put back: it was admitted once), with their routing facts.
  async queuedIn(ids: string[]): Promise<AdmittedTask[]> {
    if (ids.length === 0) return [];
    return this.prisma.$queryRaw<AdmittedTask[]>(
      withRoutingFacts(Prisma.sql`
        SELECT ${ROUTING_COLUMNS} FROM tasks
        WHERE id = ANY(${ids}) AND status = 'QUEUED'`),
    );
  }

  // Where each task was routed (tasks.pool: a pool, or `runner:<id>`), in one statement.
  async routed(assignments: { id: string; pool: string }[]): Promise<void> {
    if (assignments.length === 0) return;
    await this.sql.query(Prisma.sql`
      UPDATE tasks SET pool = a.pool
      FROM unnest(${assignments.map((a) => a.id)}::text[], ${assignments.map((a) => a.pool)}::text[])
        AS a(id, pool)
      WHERE tasks.id = a.id AND tasks.pool IS DISTINCT FROM a.pool`);
  }

  // The performance strategy's history: a profile's tasks finished since `since`, by pool.
  async poolRecords(profileId: string, since: Date): Promise<PoolHistory[]> {
    return this.prisma.$queryRaw<PoolHistory[]>`
      SELECT pool, count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
        count(*)::int AS finished, avg(duration_ms)::float AS "meanDurationMs"
      FROM tasks
      WHERE profile_id = ${profileId} AND finished_at >= ${since} AND pool IS NOT NULL
        AND status IN ('COMPLETED', 'FAILED')
      GROUP BY pool`;
  }
}
