import { randomBytes } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { hashAttemptToken } from './attempt-token.repository';

// A warm task pod's own credential (kubernetes executor, docs/performance.md): it lets the pod
// read the profile it was started for, report its CLI ready and wait for an assignment — nothing
// else (an attempt's credential starts `hga_`; every other door refuses this one as unknown).
export const WARM_POD_TOKEN_PREFIX = 'hgw_';

export type WarmPodRefusal = 'unknown' | 'expired' | 'revoked';

export interface WarmPodGrant {
  jobName: string;
  profileId: string;
  profileVersion: Date;
  ready: boolean;
  // Set once the controller gave the pod an attempt.
  assignment: { taskId: string; attempt: number } | null;
}

export type WarmPodCheck = { ok: true; pod: WarmPodGrant } | { ok: false; refusal: WarmPodRefusal };

export class WarmPodRepository {
  constructor(private readonly prisma: PrismaClient) {}

  // The credential of a new warm Job, shown once (its Secret) and stored as a sha256.
  async issue(input: {
    jobName: string;
    profileId: string;
    profileVersion: Date;
    expiresAt: Date;
  }): Promise<string> {
    const token = `${WARM_POD_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.prisma.warmPod.create({ data: { ...input, tokenHash: hashAttemptToken(token) } });
    return token;
  }

  async check(token: string): Promise<WarmPodCheck> {
    if (!token.startsWith(WARM_POD_TOKEN_PREFIX)) return { ok: false, refusal: 'unknown' };
    const row = await this.prisma.warmPod.findUnique({ where: { tokenHash: hashAttemptToken(token) } });
    if (!row) return { ok: false, refusal: 'unknown' };
    if (row.revokedAt) return { ok: false, refusal: 'revoked' };
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false, refusal: 'expired' };
    return { ok: true, pod: toGrant(row) };
  }

  async get(jobName: string): Promise<WarmPodGrant | null> {
    const row = await this.prisma.warmPod.findUnique({ where: { jobName } });
    return row && !row.revokedAt ? toGrant(row) : null;
  }

  // The pod's CLI waits, started with the credential whose sha256 this is: the attempt it is given
  // gets that credential. Once only; false when the pod reported another before.
  async ready(jobName: string, attemptTokenHash: string): Promise<boolean> {
    const { count } = await this.prisma.warmPod.updateMany({
      where: { jobName, revokedAt: null, OR: [{ attemptTokenHash: null }, { attemptTokenHash }] },
      data: { attemptTokenHash, readyAt: new Date() },
    });
    return count === 1;
  }

  // Jobs of warm pods that reported ready and wait for an assignment.
  async readyJobs(jobNames: string[]): Promise<string[]> {
    if (jobNames.length === 0) return [];
    const rows = await this.prisma.warmPod.findMany({
      where: { jobName: { in: jobNames }, readyAt: { not: null }, taskId: null, revokedAt: null },
      select: { jobName: true },
    });
    return rows.map((row) => row.jobName);
  }

  // Gives a ready, unassigned warm pod the attempt, and issues the attempt's credential — the one
  // its CLI was started with — as that Job's run, at once. False when the pod is no longer free.
  async assign(
    jobName: string,
    grant: { taskId: string; attempt: number; provider: string; expiresAt: Date },
  ): Promise<boolean> {
    try {
      return await this.assignOnce(jobName, grant);
    } catch (error) {
      // The credential it reported is someone's already: a pod not to be trusted with any attempt.
      if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error;
      await this.revoke(jobName);
      return false;
    }
  }

  private assignOnce(
    jobName: string,
    grant: { taskId: string; attempt: number; provider: string; expiresAt: Date },
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const now = new Date();
      const pod = await tx.warmPod.findUnique({ where: { jobName } });
      if (!pod?.attemptTokenHash || !pod.readyAt || pod.taskId || pod.revokedAt) return false;
      const { count } = await tx.warmPod.updateMany({
        where: { jobName, taskId: null, revokedAt: null },
        data: { taskId: grant.taskId, attempt: grant.attempt, assignedAt: now },
      });
      if (count !== 1) return false;
      await tx.attemptToken.create({
        data: { ...grant, tokenHash: pod.attemptTokenHash, runnerId: jobName },
      });
      return true;
    });
  }

  // The Job is gone: its credential is good for nothing more.
  async revoke(jobName: string): Promise<void> {
    await this.prisma.warmPod.updateMany({
      where: { jobName, revokedAt: null },
      data: { revokedAt: new Date() },
    });
  }

  // The controller retires a warm pod it no longer wants: only while no attempt was given to it
  // (false then: the Job is a task's now).
  async retire(jobName: string): Promise<boolean> {
    const { count } = await this.prisma.warmPod.updateMany({
      where: { jobName, revokedAt: null, taskId: null },
      data: { revokedAt: new Date() },
    });
    return count === 1;
  }

  // Rows of Jobs that are gone, once revoked for a while (the controller's resync).
  async removeRevokedBefore(before: Date): Promise<number> {
    const { count } = await this.prisma.warmPod.deleteMany({ where: { revokedAt: { lt: before } } });
    return count;
  }
}

function toGrant(row: {
  jobName: string;
  profileId: string;
  profileVersion: Date;
  readyAt: Date | null;
  taskId: string | null;
  attempt: number | null;
}): WarmPodGrant {
  return {
    jobName: row.jobName,
    profileId: row.profileId,
    profileVersion: row.profileVersion,
    ready: row.readyAt !== null,
    assignment: row.taskId && row.attempt !== null ? { taskId: row.taskId, attempt: row.attempt } : null,
  };
}
