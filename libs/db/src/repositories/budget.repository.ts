import type { BudgetPeriod, BudgetScope } from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { Sql } from '../sql';

// A budget as stored, with the names it is shown by (docs/governance.md).
export interface StoredBudget {
  id: string;
  scope: BudgetScope;
  projectId: string | null;
  projectSlug: string | null;
  target: string | null;
  // The profile's name (scope `profile`; its id is the target).
  profileName: string | null;
  // The user's email (scope `user`; their id is the target); the token's name and prefix (scope
  // `token`; its id is the target).
  userEmail: string | null;
  tokenName: string | null;
  period: BudgetPeriod;
  limitUsd: number | null;
  limitTokens: number | null;
  softPercent: number;
  createdAt: Date;
  // How errors and events name it.
  label: string;
}

// The period window a budget counts in at `at`: its key (for counters) and where it began
// (null: in total). Days and months are UTC.
export function budgetWindow(
  period: BudgetPeriod,
  at: Date = new Date(),
): { key: string; from: Date | null } {
  const iso = at.toISOString();
  if (period === 'day')
    return { key: `d${iso.slice(0, 10)}`, from: new Date(`${iso.slice(0, 10)}T00:00:00.000Z`) };
  if (period === 'month')
    return { key: `m${iso.slice(0, 7)}`, from: new Date(`${iso.slice(0, 7)}-01T00:00:00.000Z`) };
  return { key: 'total', from: null };
}

// Budgets whose calls are found through their tasks.
const TASK_SCOPES = new Set<BudgetScope>(['user', 'token', 'profile']);

type Row = Awaited<ReturnType<PrismaClient['budget']['findFirstOrThrow']>> & {
  project: { slug: string } | null;
};

export class BudgetRepository {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  async create(input: {
    scope: BudgetScope;
    projectId: string | null;
    target: string | null;
    period: BudgetPeriod;
    limitUsd: number | null;
    limitTokens: number | null;
    softPercent: number;
    createdBy: string;
  }): Promise<StoredBudget> {
    const row = await this.prisma.budget.create({
      data: { ...input, limitTokens: input.limitTokens === null ? null : BigInt(input.limitTokens) },
      include: { project: { select: { slug: true } } },
    });
    return (await this.named([row]))[0]!;
  }

  // The installation's budgets and those of `projectIds`.
  async list(projectIds: readonly string[]): Promise<StoredBudget[]> {
    const rows = await this.prisma.budget.findMany({
      where: { OR: [{ projectId: null }, { projectId: { in: [...projectIds] } }] },
      include: { project: { select: { slug: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return this.named(rows);
  }

  // Every budget of the installation (its metrics).
  async all(): Promise<StoredBudget[]> {
    const rows = await this.prisma.budget.findMany({
      include: { project: { select: { slug: true } } },
      orderBy: { createdAt: 'asc' },
    });
    return this.named(rows);
  }

  async get(id: string): Promise<StoredBudget | null> {
    const row = await this.prisma.budget.findUnique({
      where: { id },
      include: { project: { select: { slug: true } } },
    });
    return row ? (await this.named([row]))[0]! : null;
  }

  async delete(id: string): Promise<void> {
    await this.prisma.budget.deleteMany({ where: { id } });
  }

  // The budgets a task's model calls count against: the installation's, its project's, those of
  // who started it (the user in its project, the token), its profile's, its workflow run's and
  // its own.
  async applicable(task: {
    id: string;
    projectId: string;
    profileId: string;
    workflowRunId: string | null;
    userId: string | null;
    tokenId: string | null;
  }): Promise<StoredBudget[]> {
    // One node-postgres statement (../sql.ts), budgets and their projects' slugs: every model call
    // asks it before it is sent (Prisma took two, ~1 ms of the runner's CPU).
    const scoped = [
      Prisma.sql`b.scope = 'installation'`,
      Prisma.sql`(b.scope = 'project' AND b.project_id = ${task.projectId})`,
      ...(task.userId
        ? [Prisma.sql`(b.scope = 'user' AND b.project_id = ${task.projectId} AND b.target = ${task.userId})`]
        : []),
      ...(task.tokenId ? [Prisma.sql`(b.scope = 'token' AND b.target = ${task.tokenId})`] : []),
      Prisma.sql`(b.scope = 'profile' AND b.target = ${task.profileId})`,
      ...(task.workflowRunId
        ? [Prisma.sql`(b.scope = 'workflow-run' AND b.target = ${task.workflowRunId})`]
        : []),
      Prisma.sql`(b.scope = 'task' AND b.target = ${task.id})`,
    ];
    const found = await this.sql.query<
      Omit<Row, 'project' | 'limitTokens'> & {
        limitTokens: string | null;
        projectSlug: string | null;
      }
    >(Prisma.sql`
      SELECT b.id, b.scope, b.project_id AS "projectId", b.target, b.period, b.limit_usd AS "limitUsd",
        b.limit_tokens AS "limitTokens", b.soft_percent AS "softPercent", b.created_by AS "createdBy",
        b.created_at AS "createdAt", p.slug AS "projectSlug"
      FROM budgets b LEFT JOIN projects p ON p.id = b.project_id
      WHERE ${Prisma.join(scoped, ' OR ')}
      ORDER BY b.created_at ASC, b.id ASC`);
    // (pg gives a bigint as its text.)
    const rows: Row[] = found.map(({ projectSlug, limitTokens, ...row }) => ({
      ...row,
      limitTokens: limitTokens === null ? null : BigInt(limitTokens),
      project: projectSlug === null ? null : { slug: projectSlug },
    }));
    return this.named(rows);
  }

  // What the model calls in the budget's scope spent since `from` (null: ever), from the calls
  // recorded (the counters' seed). Those of a profile, a user or a token need the calls' tasks.
  async spent(budget: StoredBudget, from: Date | null): Promise<{ usd: number; tokens: number }> {
    const scoped = {
      installation: Prisma.sql`true`,
      project: Prisma.sql`c.project_id = ${budget.projectId}`,
      user: Prisma.sql`c.project_id = ${budget.projectId} AND t.user_id = ${budget.target}`,
      token: Prisma.sql`t.token_id = ${budget.target}`,
      profile: Prisma.sql`t.profile_id = ${budget.target}`,
      'workflow-run': Prisma.sql`c.workflow_run_id = ${budget.target}`,
      task: Prisma.sql`c.task_id = ${budget.target}`,
    }[budget.scope];
    const [row] = await this.prisma.$queryRaw<{ usd: number | null; tokens: bigint | null }[]>`
      SELECT sum(c.cost_usd)::float8 AS usd,
        sum(coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0) + coalesce(c.cache_read_tokens, 0)
          + coalesce(c.cache_write_tokens, 0))::bigint AS tokens
      FROM model_calls c
      ${TASK_SCOPES.has(budget.scope) ? Prisma.sql`JOIN tasks t ON t.id = c.task_id` : Prisma.empty}
      WHERE ${scoped} ${from ? Prisma.sql`AND c.started_at >= ${from}` : Prisma.empty}`;
    return { usd: row?.usd ?? 0, tokens: Number(row?.tokens ?? 0) };
  }

  private async named(rows: Row[]): Promise<StoredBudget[]> {
    const targets = (scope: BudgetScope) =>
      rows.filter((row) => row.scope === scope && row.target).map((row) => row.target!);
    // (A scope no budget has is not asked about: each model call reads its task's budgets.)
    const none = Promise.resolve([]);
    const [profileIds, userIds, tokenIds] = [targets('profile'), targets('user'), targets('token')];
    const [profileRows, userRows, tokenRows] = await Promise.all([
      profileIds.length === 0
        ? none
        : this.prisma.agentProfile.findMany({
            where: { id: { in: profileIds } },
            select: { id: true, name: true },
          }),
      userIds.length === 0
        ? none
        : this.prisma.user.findMany({ where: { id: { in: userIds } }, select: { id: true, email: true } }),
      tokenIds.length === 0
        ? none
        : this.prisma.apiToken.findMany({
            where: { id: { in: tokenIds } },
            select: { id: true, name: true, prefix: true },
          }),
    ]);
    const profiles = new Map(profileRows.map((profile) => [profile.id, profile.name]));
    const users = new Map(userRows.map((user) => [user.id, user.email]));
    const tokens = new Map(tokenRows.map((token) => [token.id, `${token.name} (${token.prefix}…)`]));
    const nameOf = (row: Row, scope: BudgetScope, names: Map<string, string>) =>
      row.scope === scope && row.target ? (names.get(row.target) ?? null) : null;
    return rows.map((row) => {
      const budget = {
        id: row.id,
        scope: row.scope as BudgetScope,
        projectId: row.projectId,
        projectSlug: row.project?.slug ?? null,
        target: row.target,
        profileName: nameOf(row, 'profile', profiles),
        userEmail: nameOf(row, 'user', users),
        tokenName: nameOf(row, 'token', tokens),
        period: row.period as BudgetPeriod,
        limitUsd: row.limitUsd,
        limitTokens: row.limitTokens === null ? null : Number(row.limitTokens),
        softPercent: row.softPercent,
        createdAt: row.createdAt,
      };
      return { ...budget, label: labelOf(budget) };
    });
  }
}

function labelOf(budget: Omit<StoredBudget, 'label'>): string {
  const project = `project "${budget.projectSlug}"`;
  const what = {
    installation: 'the installation',
    project,
    user: `user ${budget.userEmail ?? budget.target} in ${project}`,
    token: `token ${budget.tokenName ?? budget.target} of ${project}`,
    profile: `profile "${budget.profileName ?? budget.target}" of ${project}`,
    'workflow-run': `workflow run ${budget.target}`,
    task: `task ${budget.target}`,
  }[budget.scope];
  const limits = [
    ...(budget.limitUsd !== null ? [`$${budget.limitUsd}`] : []),
    ...(budget.limitTokens !== null ? [`${budget.limitTokens} tokens`] : []),
  ].join(', ');
  const period = { day: 'per day', month: 'per month', total: 'in total' }[budget.period];
  return `budget ${budget.id}: ${what} ${period} (${limits})`;
}
