import {
  APPROVAL_ANSWER_ROLE,
  type Approval,
  type ApprovalAnswerDecision,
  type ApprovalStatus,
} from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Sql } from '../sql';

const withNames = {
  project: { select: { slug: true } },
  task: { select: { profile: { select: { name: true } } } },
} as const;
type Row = Prisma.ApprovalGetPayload<{ include: typeof withNames }>;

export interface StoredApproval extends Approval {
  projectId: string;
}

function toApproval(row: Row): StoredApproval {
  return {
    id: row.id,
    taskId: row.taskId,
    projectId: row.projectId,
    project: row.project.slug,
    profile: row.task.profile.name,
    attempt: row.attempt,
    tool: row.tool,
    input: row.input,
    rule: row.rule,
    status: row.status as ApprovalStatus,
    decision: row.decision as ApprovalAnswerDecision | null,
    message: row.message,
    answeredBy: row.answeredBy,
    answeredAt: row.answeredAt?.toISOString() ?? null,
    answerableBy: APPROVAL_ANSWER_ROLE,
    deadline: row.deadline.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}

export interface NewApproval {
  taskId: string;
  projectId: string;
  attempt: number;
  tool: string;
  input: Record<string, unknown>;
  toolUseId: string;
  rule: string;
  deadline: Date;
}

// Tool calls waiting for a person (docs/governance.md). Every change is guarded on the approval
// still pending: an answer and the deadline (or two answers) race, and one of them wins.
export class ApprovalRepository {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // The approval of this call: new, or the one an earlier ask of the same call made (the CLI
  // asks again when its request to the prompt tool was lost).
  async ask(input: NewApproval): Promise<{ approval: StoredApproval; created: boolean }> {
    const key = { taskId: input.taskId, attempt: input.attempt, toolUseId: input.toolUseId };
    try {
      const row = await this.prisma.approval.create({
        data: { ...input, input: input.input as Prisma.InputJsonObject },
        include: withNames,
      });
      return { approval: toApproval(row), created: true };
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error;
      const row = await this.prisma.approval.findUniqueOrThrow({
        where: { taskId_attempt_toolUseId: key },
        include: withNames,
      });
      return { approval: toApproval(row), created: false };
    }
  }

  async get(id: string): Promise<StoredApproval | null> {
    const row = await this.prisma.approval.findUnique({ where: { id }, include: withNames });
    return row ? toApproval(row) : null;
  }

  // Null unless it is of one of these projects.
  async getVisible(id: string, projectIds: readonly string[]): Promise<StoredApproval | null> {
    const row = await this.prisma.approval.findFirst({
      where: { id, projectId: { in: [...projectIds] } },
      include: withNames,
    });
    return row ? toApproval(row) : null;
  }

  // Newest first; pending ones soonest deadline first.
  async list(query: {
    projectIds: readonly string[];
    taskId?: string;
    // A conversation's (a webhook thread's) turns.
    conversationId?: string;
    status: 'pending' | 'answered' | 'all';
    limit: number;
  }): Promise<StoredApproval[]> {
    const rows = await this.prisma.approval.findMany({
      where: {
        projectId: { in: [...query.projectIds] },
        ...(query.taskId ? { taskId: query.taskId } : {}),
        ...(query.conversationId ? { task: { conversationId: query.conversationId } } : {}),
        ...(query.status === 'pending' ? { status: 'PENDING' } : {}),
        ...(query.status === 'answered' ? { status: { not: 'PENDING' } } : {}),
      },
      orderBy: query.status === 'pending' ? [{ deadline: 'asc' }] : [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit,
      include: withNames,
    });
    return rows.map(toApproval);
  }

  // A person's answer, while it is pending and before its deadline; null otherwise.
  async answer(
    id: string,
    answer: { decision: ApprovalAnswerDecision; message: string | null; by: string },
  ): Promise<StoredApproval | null> {
    const { count } = await this.prisma.approval.updateMany({
      where: { id, status: 'PENDING', deadline: { gt: new Date() } },
      data: {
        status: answer.decision === 'deny' ? 'DENIED' : 'ALLOWED',
        decision: answer.decision,
        message: answer.message,
        answeredBy: answer.by,
        answeredAt: new Date(),
      },
    });
    return count === 0 ? null : this.get(id);
  }

  // No answer came (its deadline passed, or its attempt ended): null if one did meanwhile.
  async expire(id: string, message: string): Promise<StoredApproval | null> {
    const { count } = await this.prisma.approval.updateMany({
      where: { id, status: 'PENDING' },
      data: { status: 'EXPIRED', message, answeredAt: new Date() },
    });
    return count === 0 ? null : this.get(id);
  }

  // Every pending approval of the task's attempts up to `attempt` (those of an ended attempt
  // have no agent waiting any more).
  async expireAttempts(taskId: string, attempt: number, message: string): Promise<StoredApproval[]> {
    // One statement when nothing is pending (every task's end asks it, and almost always finds
    // nothing): the names are read only for what expired (Prisma reads each relation of an
    // update's rows in statements of their own, in a transaction, even for none); node-postgres
    // (../sql.ts).
    const expired = await this.sql.query<{ id: string }>(Prisma.sql`
      UPDATE approvals SET status = 'EXPIRED', message = ${message}, answered_at = now()
      WHERE task_id = ${taskId} AND attempt <= ${attempt} AND status = 'PENDING'
      RETURNING id`);
    if (expired.length === 0) return [];
    const rows = await this.prisma.approval.findMany({
      where: { id: { in: expired.map((row) => row.id) } },
      include: withNames,
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(toApproval);
  }

  // Whether a person allowed this pattern for the rest of the task (any attempt).
  async allowedForTask(taskId: string, rule: string): Promise<StoredApproval | null> {
    const row = await this.prisma.approval.findFirst({
      where: { taskId, rule, status: 'ALLOWED', decision: 'allow-task' },
      orderBy: { answeredAt: 'asc' },
      include: withNames,
    });
    return row ? toApproval(row) : null;
  }

  // How long the attempt has waited for answers so far (overlapping waits counted once).
  async waitedMs(taskId: string, attempt: number, now: Date = new Date()): Promise<number> {
    const rows = await this.prisma.approval.findMany({
      where: { taskId, attempt },
      select: { createdAt: true, answeredAt: true },
      orderBy: { createdAt: 'asc' },
    });
    let total = 0;
    let coveredUntil = 0;
    for (const row of rows) {
      const from = Math.max(row.createdAt.getTime(), coveredUntil);
      const to = (row.answeredAt ?? now).getTime();
      if (to > from) total += to - from;
      coveredUntil = Math.max(coveredUntil, to);
    }
    return total;
  }
}
