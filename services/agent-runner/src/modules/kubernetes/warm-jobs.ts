import { randomBytes } from 'node:crypto';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { Logger } from '@nestjs/common';
import type { AgentProfile, Task } from '@hangar/contracts';
import type { ProfileRepository, WarmPodRepository } from '@hangar/db';
import { OnDemand } from '@hangar/platform';
import type { AgentRunnerConfig } from '../../config';
import { warmUnfit, type WarmMiss } from '../runner/warm-agent';
import { isJobFinished, jobFailure } from './job-failure';
import type { KubeClients } from './kube-clients';
import type { KubernetesMetrics } from './kubernetes.metrics';
import { statusOf } from './leader-election';
import {
  buildTaskTokenSecret,
  buildWarmJob,
  TASK_LABEL,
  WARM_PROFILE_LABEL,
  WARM_VERSION_LABEL,
  warmJobName,
  type TaskJobSettings,
} from './task-job';

// Why a warm Job was deleted unused (hangar_runner_warm_jobs_retired_total{reason}).
type RetireReason = 'idle' | 'profile-changed' | 'not-wanted' | 'failed';

// A profile whose warm pod failed or ended unused waits this long before the next (doubling up
// to MAX_BACKOFF_MS; a pod of it reporting ready ends the wait): never a loop of failing pods.
const FIRST_BACKOFF_MS = 5000;
const MAX_BACKOFF_MS = 5 * 60_000;
// A warm Job's own deadline beyond its idle time and its time to be scheduled: should the
// controller be gone, an unused warm pod still ends.
const DEADLINE_MARGIN_SECONDS = 300;

// What the controller lends the warm Jobs: its view of the cluster, and its bookkeeping of
// Jobs it made.
export interface WarmJobsHost {
  // Leading, with the first lists in.
  leading(): boolean;
  // Every managed Job known (watched, or created and not shown by the watch yet).
  knownJobs(): V1Job[];
  podsOf(jobName: string): V1Pod[];
  created(job: V1Job): void;
}

// Whether a Job is a warm one no attempt was given to yet (labels as the controller last saw them).
export function isIdleWarmJob(job: V1Job): boolean {
  const labels = job.metadata?.labels ?? {};
  return labels[WARM_PROFILE_LABEL] !== undefined && labels[TASK_LABEL] === undefined;
}

// The kubernetes executor's warm task pods (docs/performance.md): per Claude Code profile that
// asks for them (as the process executor's warm pool reads it), Jobs whose pod has its CLI
// started and waits for an attempt over the task API. Within RUNNER_JOB_WARM_MAX over every
// profile; replaced when their profile changes, retired when idle too long or no longer asked for;
// a failing one is replaced after a growing wait. Only the leader keeps them.
export class WarmJobs {
  private readonly logger = new Logger(WarmJobs.name);
  // Profiles kept warm, as last read: by id, with how many each.
  private wanted = new Map<string, { profile: AgentProfile; count: number }>();
  // Warm Jobs whose pod reported its CLI ready, as last read.
  private ready = new Set<string>();
  private readonly backoff = new Map<string, { until: number; ms: number }>();
  // Given an attempt here, before the watch shows them labelled with it.
  private readonly given = new Set<string>();
  private readonly refresher = new OnDemand('warm Jobs', () => this.pass());
  private active = false;

  constructor(
    private readonly host: WarmJobsHost,
    private readonly deps: {
      kube: KubeClients;
      settings: TaskJobSettings;
      config: AgentRunnerConfig;
      pods: WarmPodRepository;
      profiles: ProfileRepository;
      metrics: KubernetesMetrics;
    },
  ) {}

  get enabled(): boolean {
    return this.deps.config.RUNNER_JOB_WARM_MAX > 0;
  }

  start(): void {
    this.active = this.enabled;
    this.refresh();
  }

  async stop(): Promise<void> {
    this.active = false;
    await this.refresher.idle();
    this.wanted = new Map();
    this.ready = new Set();
    this.given.clear();
  }

  // A warm Job is gone: a pass replaces it if it was still wanted.
  forget(jobName: string): void {
    this.given.delete(jobName);
    this.ready.delete(jobName);
    this.refresh();
  }

  // A warm Job no attempt was given to (as far as this leader knows).
  isIdle(job: V1Job): boolean {
    const name = job.metadata?.name ?? '';
    if (!isIdleWarmJob(job)) {
      this.given.delete(name);
      return false;
    }
    return !this.given.has(name);
  }

  // Asks for a pass (filling, retiring): at the leader's resync and when a warm Job changed.
  refresh(): void {
    if (this.active) this.refresher.run();
  }

  // Resolves once no pass is under way.
  settled(): Promise<void> {
    return this.refresher.idle();
  }

  // Warm Jobs waiting for an attempt, ready (their CLI started) or starting.
  counts(): { ready: number; starting: number } {
    const idle = this.idle();
    const ready = idle.filter((job) => this.ready.has(job.metadata?.name ?? '')).length;
    return { ready, starting: idle.length - ready };
  }

  // Gives the attempt to a ready warm pod of the task's profile as it is now, issuing the
  // attempt's credential (the one the pod's CLI was started with) as that Job's run; or says why
  // none could take it. Null when the profile is not kept warm (not counted).
  async take(
    task: Task,
    attempt: number,
    profile: { id: string; profile: AgentProfile },
    expiresAt: Date,
  ): Promise<{ job: V1Job } | { miss: WarmMiss } | null> {
    if (!this.active || !this.wanted.has(profile.id)) return null;
    const outcome = await this.choose(task, attempt, profile, expiresAt);
    if ('miss' in outcome) this.deps.metrics.warmTakes.inc({ outcome: 'miss', reason: outcome.miss });
    else this.deps.metrics.warmTakes.inc({ outcome: 'hit', reason: '' });
    // One taken or found stale: the next pass makes another.
    this.refresh();
    return outcome;
  }

  private async choose(
    task: Task,
    attempt: number,
    { id, profile }: { id: string; profile: AgentProfile },
    expiresAt: Date,
  ): Promise<{ job: V1Job } | { miss: WarmMiss }> {
    // What a pod whose CLI started with an empty workspace, no session and no output schema
    // cannot serve. (A task sharing a workspace never gets this far in a pod.)
    const unfit = warmUnfit(task);
    if (unfit) return { miss: unfit };
    const version = String(Date.parse(profile.updatedAt));
    const ofProfile = this.idle().filter(
      (job) => job.metadata?.labels?.[WARM_PROFILE_LABEL] === id && usable(job),
    );
    const current = ofProfile.filter((job) => job.metadata?.labels?.[WARM_VERSION_LABEL] === version);
    if (current.length === 0) return { miss: ofProfile.length > 0 ? 'profile-changed' : 'none-ready' };
    const byName = new Map(current.map((job) => [job.metadata?.name ?? '', job]));
    for (const name of await this.deps.pods.readyJobs([...byName.keys()])) {
      const assigned = await this.deps.pods.assign(name, {
        taskId: task.id,
        attempt,
        provider: profile.provider,
        expiresAt,
      });
      if (assigned) {
        this.ready.delete(name);
        this.given.add(name);
        return { job: byName.get(name)! };
      }
    }
    return { miss: 'none-ready' };
  }

  private idle(): V1Job[] {
    return this.host.knownJobs().filter((job) => this.isIdle(job));
  }

  private async pass(): Promise<void> {
    if (!this.active || !this.host.leading()) return;
    const { config, profiles, pods } = this.deps;
    const rows = await profiles.wantingWarm(config.RUNNER_WARM_DEFAULT, config.RUNNER_JOB_WARM_MAX);
    let left = config.RUNNER_JOB_WARM_MAX;
    const wanted = new Map<string, { profile: AgentProfile; count: number }>();
    for (const { id, profile, warm } of rows) {
      const count = Math.min(warm, left);
      if (count <= 0) continue;
      wanted.set(id, { profile, count });
      left -= count;
    }
    this.wanted = wanted;

    const idle = this.idle().filter((job) => !job.metadata?.deletionTimestamp);
    this.ready = new Set(await pods.readyJobs(idle.map((job) => job.metadata?.name ?? '')));
    const now = Date.now();
    const kept = new Map<string, V1Job[]>();
    for (const job of idle) {
      const labels = job.metadata?.labels ?? {};
      const profileId = labels[WARM_PROFILE_LABEL] ?? '';
      const want = wanted.get(profileId);
      // (A pod of a changed profile ends by itself: that is no failure of its profile's pods.)
      const reason: RetireReason | null = !want
        ? 'not-wanted'
        : labels[WARM_VERSION_LABEL] !== String(Date.parse(want.profile.updatedAt))
          ? 'profile-changed'
          : this.failed(job)
            ? 'failed'
            : now - createdAt(job) > config.RUNNER_WARM_IDLE_SECONDS * 1000
              ? 'idle'
              : null;
      if (reason) {
        if (reason === 'failed') this.delay(profileId);
        await this.retire(job, reason);
      } else kept.set(profileId, [...(kept.get(profileId) ?? []), job]);
    }

    for (const [profileId, { profile, count }] of wanted) {
      if (!this.active || !this.host.leading()) return;
      // The ready ones stay first when there are too many.
      const jobs = (kept.get(profileId) ?? []).sort(
        (a, b) =>
          Number(this.ready.has(b.metadata?.name ?? '')) - Number(this.ready.has(a.metadata?.name ?? '')),
      );
      if (jobs.some((job) => this.ready.has(job.metadata?.name ?? ''))) this.backoff.delete(profileId);
      for (const job of jobs.splice(count)) await this.retire(job, 'not-wanted');
      const backoff = this.backoff.get(profileId);
      if (backoff && backoff.until > Date.now()) continue;
      for (let missing = count - jobs.length; missing > 0; missing -= 1) {
        if (!(await this.create(profileId, profile))) break;
      }
    }
  }

  // A warm Job that ended (its pod exited or failed: it was never given an attempt), or whose pod
  // cannot start (unschedulable for too long, its image, its config).
  private failed(job: V1Job): boolean {
    const name = job.metadata?.name ?? '';
    return (
      isJobFinished(job) ||
      jobFailure(job, this.host.podsOf(name), {
        now: new Date(),
        pendingTimeoutSeconds: this.deps.config.RUNNER_JOB_PENDING_TIMEOUT_SECONDS,
      }) !== null
    );
  }

  private async create(profileId: string, profile: AgentProfile): Promise<boolean> {
    const { kube, settings, config, pods, metrics } = this.deps;
    const name = warmJobName(randomBytes(6).toString('hex'));
    const deadlineSeconds =
      config.RUNNER_WARM_IDLE_SECONDS + config.RUNNER_JOB_PENDING_TIMEOUT_SECONDS + DEADLINE_MARGIN_SECONDS;
    try {
      const token = await pods.issue({
        jobName: name,
        profileId,
        profileVersion: new Date(profile.updatedAt),
        expiresAt: new Date(Date.now() + deadlineSeconds * 1000),
      });
      const body = buildWarmJob(
        {
          name,
          profileId,
          profileVersion: profile.updatedAt,
          resources: profile.resources ?? undefined,
          deadlineSeconds,
        },
        settings,
      );
      const created = await kube.batch.createNamespacedJob({ namespace: settings.namespace, body });
      this.host.created(created);
      metrics.warmCreated.inc();
      // Its pod waits for the Secret; without one it would never start: retired now instead.
      try {
        await kube.core.createNamespacedSecret({
          namespace: settings.namespace,
          body: buildTaskTokenSecret(created, token),
        });
      } catch (error) {
        await this.retire(created, 'failed');
        throw error;
      }
      this.logger.log(`profile ${profileId}: warm Job ${name} created`);
      return true;
    } catch (error) {
      this.logger.warn(`profile ${profileId}: no warm Job made (${statusOf(error) ?? String(error)})`);
      await pods.revoke(name);
      this.delay(profileId);
      return false;
    }
  }

  private async retire(job: V1Job, reason: RetireReason): Promise<void> {
    const name = job.metadata?.name ?? '';
    // An attempt was given to it meanwhile: it is a task's Job now.
    if (!(await this.deps.pods.retire(name))) return;
    this.deps.metrics.warmRetired.inc({ reason });
    this.ready.delete(name);
    try {
      await this.deps.kube.batch.deleteNamespacedJob({
        name,
        namespace: this.deps.settings.namespace,
        propagationPolicy: 'Background',
      });
      this.logger.log(`warm Job ${name} deleted (${reason})`);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  private delay(profileId: string): void {
    const ms = Math.min((this.backoff.get(profileId)?.ms ?? FIRST_BACKOFF_MS / 2) * 2, MAX_BACKOFF_MS);
    this.backoff.set(profileId, { until: Date.now() + ms, ms });
  }
}

function usable(job: V1Job): boolean {
  return !isJobFinished(job) && !job.metadata?.deletionTimestamp;
}

function createdAt(job: V1Job): number {
  const stamp = job.metadata?.creationTimestamp as Date | string | undefined;
  return stamp ? new Date(stamp).getTime() : Date.now();
}
