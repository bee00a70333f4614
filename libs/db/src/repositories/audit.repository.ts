import type { ActorType, AuditEntry, AuditPage } from '@hangar/contracts';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { sqlOf } from '../client';
import { json } from '../sql';
import { timeOrderedId } from '../task-id';
import { StatementBatcher } from '../statement-batcher';
import { keysetAfter, keysetPage } from './keyset-cursor';
import { projectSlugs } from './project.repository';

export interface NewAuditEntry {
  projectId?: string | null;
  actor: { type: ActorType; id: string | null; label: string };
  action: string;
  target?: { type: string; id: string } | null;
  ip?: string | null;
  userAgent?: string | null;
  traceId?: string | null;
  details?: Record<string, unknown>;
}

// An entry as the JSON record audit_log's columns are read from (AUDIT_RECORD), for a statement
// that writes entries: this repository's, or a change's own (a task's creation writes its
// request's entry in its statement: one commit for both).
export function auditRow(entry: NewAuditEntry) {
  return {
    id: timeOrderedId('a'),
    project_id: entry.projectId ?? null,
    actor_type: entry.actor.type,
    actor_id: entry.actor.id,
    actor_label: entry.actor.label,
    action: entry.action,
    target_type: entry.target?.type ?? null,
    target_id: entry.target?.id ?? null,
    ip: entry.ip ?? null,
    user_agent: entry.userAgent?.slice(0, 500) ?? null,
    trace_id: entry.traceId ?? null,
    details: entry.details ?? {},
  };
}

// auditRow's fields: audit_log's columns, with their types for jsonb_to_record(set).
const AUDIT_COLUMNS: [name: string, type: string][] = [
  ['id', 'text'],
  ['project_id', 'text'],
  ['actor_type', 'text'],
  ['actor_id', 'text'],
  ['actor_label', 'text'],
  ['action', 'text'],
  ['target_type', 'text'],
  ['target_id', 'text'],
  ['ip', 'text'],
  ['user_agent', 'text'],
  ['trace_id', 'text'],
  ['details', 'jsonb'],
];

// The columns, as `alias.column`s when a statement names its record.
export function auditColumns(alias?: string): Prisma.Sql {
  return Prisma.raw(AUDIT_COLUMNS.map(([name]) => (alias ? `${alias}.${name}` : name)).join(', '));
}

// jsonb_to_record(set)'s column list for auditRow's record.
export const AUDIT_RECORD = Prisma.raw(AUDIT_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', '));

export class AuditRepository {
  // Entries recorded together (concurrent requests) are written together (../statement-batcher.ts).
  private readonly batcher = new StatementBatcher<NewAuditEntry, void>((entries) => this.write(entries));

  constructor(private readonly prisma: PrismaClient) {}

  // Every audited request writes one entry (a task's creation among them), and waits until it is
  // written: node-postgres (../sql.ts), not Prisma's create, which cost the gateway a tenth of its
  // CPU per accepted task; the entries of requests made at once in one statement.
  record(entry: NewAuditEntry): Promise<void> {
    return this.batcher.submit(entry);
  }

  private async write(entries: NewAuditEntry[]): Promise<void[]> {
    const rows = entries.map((entry, ord) => ({ ...auditRow(entry), ord }));
    // One text for any number of entries (one prepared statement), in the order recorded.
    await sqlOf(this.prisma).query(Prisma.sql`
      INSERT INTO audit_log (${auditColumns()})
      SELECT ${auditColumns()}
      FROM jsonb_to_recordset(${json(rows)}::jsonb) AS e(${AUDIT_RECORD}, ord int)
      ORDER BY ord`);
    return entries.map(() => undefined);
  }

  // Newest first. `projectIds` null: every entry (instance administrators), including those
  // of no project (users, sign-ins).
  async list(query: {
    projectIds: readonly string[] | null;
    action?: string;
    limit: number;
    cursor?: string;
  }): Promise<AuditPage> {
    const rows = await this.prisma.auditEntry.findMany({
      where: {
        AND: [
          query.projectIds === null ? {} : { projectId: { in: [...query.projectIds] } },
          query.action ? { action: query.action } : {},
          keysetAfter('at', query.cursor),
        ],
      },
      orderBy: [{ at: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => row.at);
    const slugs = await projectSlugs(
      this.prisma,
      page.map((row) => row.projectId),
    );
    return {
      items: page.map((row): AuditEntry => ({
        id: row.id,
        at: row.at.toISOString(),
        project: row.projectId ? (slugs.get(row.projectId) ?? row.projectId) : null,
        actor: { type: row.actorType as ActorType, id: row.actorId, label: row.actorLabel },
        action: row.action,
        target: row.targetType && row.targetId ? { type: row.targetType, id: row.targetId } : null,
        ip: row.ip,
        userAgent: row.userAgent,
        traceId: row.traceId,
        details: row.details as Record<string, unknown>,
      })),
      nextCursor,
    };
  }
}
