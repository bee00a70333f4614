import { createHash, randomBytes } from 'node:crypto';
import { isTerminalStatus, type Task } from '@hangar/contracts';
import { sqlOf } from '../client';
import { Prisma, type PrismaClient, type Task as TaskRow } from '../generated/prisma/client';
import type { Sql } from '../sql';
import { TASK_COLUMNS, taskFromSql } from './task.mapper';

// A task attempt's own credential, for what its agent may reach through the runner (the model
// gateway, the egress proxy) and, in a task pod, the task API. Random, shown once, stored as a
// sha256, and good only while its attempt runs.
export const ATTEMPT_TOKEN_PREFIX = 'hga_';

export type AttemptTokenRefusal = 'unknown' | 'expired' | 'revoked' | 'attempt-ended';

export interface AttemptGrant {
  taskId: string;
  attempt: number;
  provider: string;
  expiresAt: Date;
  // The warm Job the attempt was given to (kubernetes executor); null: its own Job, or a runner.
  runnerId: string | null;
  // The task as it is now.
  task: Task & { projectId: string; profileId: string; userId: string | null; tokenId: string | null };
}

export type AttemptTokenCheck =
  { ok: true; grant: AttemptGrant } | { ok: false; refusal: AttemptTokenRefusal };

export function hashAttemptToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newAttemptToken(): string {
  return `${ATTEMPT_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

type TokenRow = TaskRow & {
  profileName: string;
  projectSlug: string;
  userId: string | null;
  tokenId: string | null;
  tokenAttempt: number;
  tokenProvider: string;
  tokenExpiresAt: Date;
  tokenRevokedAt: Date | null;
  tokenRunnerId: string | null;
};

export class AttemptTokenRepository {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
  }

  // `token`: one made ahead with newAttemptToken (a warm CLI has it before its task exists; until
  // it is issued here it is nobody's credential).
  async issue(input: {
    taskId: string;
    attempt: number;
    provider: string;
    expiresAt: Date;
    token?: string;
  }): Promise<string> {
    const { token = newAttemptToken(), taskId, attempt, provider, expiresAt } = input;
    // node-postgres (../sql.ts): a cold start waits for it before its CLI starts.
    await this.sql.query(Prisma.sql`
      INSERT INTO attempt_tokens (token_hash, task_id, attempt, provider, expires_at)
      VALUES (${hashAttemptToken(token)}, ${taskId}, ${attempt}, ${provider}, ${expiresAt})`);
    return token;
  }

  // Valid while not expired or revoked, and while the task is still on this attempt: a token of
  // an attempt that ended (finished, requeued, or taken over by a retry) is refused even if its
  // revocation was lost. `claimable`: a task still QUEUED for this attempt also counts (a task
  // pod's token before its claim). `ended`: so does the task's last attempt once it finished,
  // until the credential is revoked as its agent exits (for the telemetry relay only: an agent
  // told finished at its result still sends its last telemetry).
  async check(
    token: string,
    options: { claimable?: boolean; ended?: boolean } = {},
  ): Promise<AttemptTokenCheck> {
    if (!token.startsWith(ATTEMPT_TOKEN_PREFIX)) return { ok: false, refusal: 'unknown' };
    // One statement with its task (node-postgres, ../sql.ts): every call an agent makes to the
    // runner (each model call, each proxied connection) asks it.
    const [row] = await this.sql.query<TokenRow>(Prisma.sql`
      SELECT a.attempt AS "tokenAttempt", a.provider AS "tokenProvider", a.expires_at AS "tokenExpiresAt",
        a.revoked_at AS "tokenRevokedAt", a.runner_id AS "tokenRunnerId",
        t.user_id AS "userId", t.token_id AS "tokenId", ${TASK_COLUMNS}
      FROM attempt_tokens a JOIN tasks t ON t.id = a.task_id
      WHERE a.token_hash = ${hashAttemptToken(token)}`);
    if (!row) return { ok: false, refusal: 'unknown' };
    if (row.tokenRevokedAt) return { ok: false, refusal: 'revoked' };
    if (row.tokenExpiresAt.getTime() <= Date.now()) return { ok: false, refusal: 'expired' };
    const attempt = row.tokenAttempt;
    const running =
      (row.status === 'RUNNING' || (options.ended === true && isTerminalStatus(row.status))) &&
      row.attempts === attempt;
    const waiting = options.claimable === true && row.status === 'QUEUED' && row.attempts === attempt - 1;
    if (!running && !waiting) return { ok: false, refusal: 'attempt-ended' };
    return {
      ok: true,
      grant: {
        taskId: row.id,
        attempt,
        provider: row.tokenProvider,
        expiresAt: row.tokenExpiresAt,
        runnerId: row.tokenRunnerId,
        task: {
          ...taskFromSql(row),
          projectId: row.projectId,
          profileId: row.profileId,
          userId: row.userId,
          tokenId: row.tokenId,
        },
      },
    };
  }

  // Every token of the attempt; returns how many were still live.
  // The attempt waited `ms` for people (approvals): its credential lives that much longer, as
  // its timeout does.
  async extend(taskId: string, attempt: number, ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.prisma.$executeRaw`
      UPDATE attempt_tokens SET expires_at = expires_at + ${Math.round(ms)} * interval '1 millisecond'
      WHERE task_id = ${taskId} AND attempt = ${attempt} AND revoked_at IS NULL`;
  }

  async revoke(taskId: string, attempt: number): Promise<number> {
    const revoked = await this.sql.query(Prisma.sql`
      UPDATE attempt_tokens SET revoked_at = now()
      WHERE task_id = ${taskId} AND attempt = ${attempt} AND revoked_at IS NULL
      RETURNING 1 AS revoked`);
    return revoked.length;
  }
}
