import {
  PatchStrategy,
  setHeaderOptions,
  type V1EnvVar,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TERMINAL_STATUSES, type TaskJob } from '@hangar/contracts';
import {
  ProfileRepository,
  TaskRepository,
  WarmPodRepository,
  type AttemptGrant,
  type TaskJobState,
} from '@hangar/db';
import { TaskLifecycle } from '@hangar/platform';
import { delayedJob, type Job } from '@hangar/redis';
import type { TaskExecutor } from '../intake/task-executor';
import { TaskIntake } from '../intake/task-intake.service';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { ApprovalGate } from '../endpoints/approval-gate';
import { AttemptCredentials } from '../endpoints/attempt-credentials.service';
import { runnerIdOf } from '../endpoints/task-api';
import { WarmAssignments } from '../endpoints/warm-assignments';
import { isJobFinished, jobFailure, type JobFailure } from './job-failure';
import { KubeClients } from './kube-clients';
import { KubernetesMetrics } from './kubernetes.metrics';
import { LeaderElection, statusOf } from './leader-election';
import { Reflector } from './reflector';
import {
  ATTEMPT_LABEL,
  buildConversationClaim,
  buildTaskJob,
  buildTaskTokenSecret,
  COMPONENT_LABELS,
  conversationClaimName,
  PROJECT_LABEL,
  sharedWorkspaceInPod,
  TASK_LABEL,
  taskJobName,
  WARM_PROFILE_LABEL,
  WARM_SECONDS_ANNOTATION,
  type TaskJobSettings,
} from './task-job';
import { isIdleWarmJob, WarmJobs } from './warm-jobs';

const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${COMPONENT_LABELS['app.kubernetes.io/managed-by']}`;
// The label the Job controller puts on a Job's pods.
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
// Settings of this controller a task pod runs with too (docs/configuration.md). Nothing secret,
// and nothing the runner applies itself for the pod (model endpoints, git hosts, streams).
const FORWARDED_SETTINGS = [
  'LOG_LEVEL',
  'HEARTBEAT_INTERVAL_MS',
  'RUNNER_MAX_OUTPUT_BYTES',
  'RUNNER_MAX_EVENT_BYTES',
] as const;

// The kubernetes executor: one Job per task attempt, created from the durable queue within the
// cluster's and each project's Job caps, and reconciled with its task from what the cluster
// reports. Only the replica holding the Lease acts; the others wait to take over.
//
// Who writes what: the Job's pod (run-task.js) claims its attempt and records the outcome through
// this runner's task API, with the attempt's token that the controller issues and puts in the
// Job's Secret. This controller steps in only when the pod cannot: it never started
// (unschedulable, image pull), it was killed (OOM, deadline, eviction), or its Job was deleted;
// then it also revokes the attempt's token.
@Injectable()
export class KubernetesExecutor implements TaskExecutor, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly kind = 'kubernetes' as const;
  // One job at a time: a job waits here while the cluster is at RUNNER_MAX_JOBS.
  readonly concurrency = 1;
  private readonly logger = new Logger(KubernetesExecutor.name);
  readonly jobs: Reflector<V1Job>;
  readonly pods: Reflector<V1Pod>;
  readonly election: LeaderElection;
  private readonly settings: TaskJobSettings;
  // The periodic resync while leading: its next timer, and the pass in flight (follow waits for it).
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> = Promise.resolve();
  private acting = false;
  // Both reflectors have their first list, since this replica leads (lead()).
  private listed = false;
  // Jobs created here that the watch has not shown yet: they count against the caps already.
  private readonly created = new Map<string, V1Job>();
  // One reconcile at a time per Job, in the order events came.
  private readonly reconciling = new Map<string, Promise<void>>();
  // Jobs whose token Secret is known to exist, while leading.
  private readonly secured = new Set<string>();
  private capacityWaiters: (() => void)[] = [];
  // Warm task pods (docs/performance.md), kept while leading.
  readonly warm: WarmJobs;

  constructor(
    private readonly tasks: TaskRepository,
    private readonly profiles: ProfileRepository,
    private readonly lifecycle: TaskLifecycle,
    private readonly kube: KubeClients,
    private readonly metrics: KubernetesMetrics,
    private readonly credentials: AttemptCredentials,
    private readonly intake: TaskIntake,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
    approvals: ApprovalGate,
    private readonly warmPods: WarmPodRepository,
    private readonly assignments: WarmAssignments,
  ) {
    approvals.onWaited((grant, waitedMs) => this.extendDeadline(grant, waitedMs));
    const namespace = config.RUNNER_JOB_NAMESPACE;
    this.settings = taskJobSettings(config);
    this.jobs = new Reflector<V1Job>({
      kind: 'jobs',
      path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
      labelSelector: MANAGED_SELECTOR,
      list: () => this.kube.batch.listNamespacedJob({ namespace, labelSelector: MANAGED_SELECTOR }),
      watch: kube.watch,
      onUpsert: (job) => this.onJobChanged(job),
      onDelete: (job) => this.onJobGone(job),
    });
    this.pods = new Reflector<V1Pod>({
      kind: 'pods',
      path: `/api/v1/namespaces/${namespace}/pods`,
      labelSelector: MANAGED_SELECTOR,
      list: () => this.kube.core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR }),
      watch: kube.watch,
      onUpsert: (pod) => this.onPodChanged(pod),
      onDelete: (pod) => this.onPodChanged(pod),
    });
    this.election = new LeaderElection(kube.coordination, {
      namespace,
      name: config.RUNNER_LEASE_NAME,
      identity: config.RUNNER_ID,
      leaseDurationSeconds: config.RUNNER_LEASE_DURATION_SECONDS,
      retryMs: config.RUNNER_LEASE_RETRY_MS,
      onStartedLeading: () => this.lead(),
      onStoppedLeading: () => this.follow(),
    });
    this.warm = new WarmJobs(
      {
        leading: () => this.isLeader && this.listed,
        knownJobs: () => this.knownJobs(),
        podsOf: (name) => this.podsOf(name),
        created: (job) => {
          if (!this.jobs.get(job.metadata?.name ?? '')) this.created.set(job.metadata?.name ?? '', job);
        },
      },
      { kube, settings: this.settings, config, pods: warmPods, profiles, metrics },
    );
    metrics.observe(this);
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  onApplicationBootstrap() {
    this.election.start();
  }

  // SIGTERM: stop taking tasks and hand the Lease over. Running Jobs go on without us; the next
  // leader adopts them.
  async beforeApplicationShutdown() {
    await this.election.stop();
  }

  // Active task Jobs (not finished), in the whole namespace or of one project. A warm Job counts
  // from when an attempt is given to it; until then it is bounded by RUNNER_JOB_WARM_MAX alone.
  activeJobs(projectId?: string): V1Job[] {
    return this.knownJobs().filter(
      (job) =>
        !isJobFinished(job) &&
        !this.warm.isIdle(job) &&
        (projectId === undefined || job.metadata?.labels?.[PROJECT_LABEL] === projectId),
    );
  }

  // Warm Jobs waiting for an attempt (hangar_runner_warm_jobs).
  warmJobs(): { ready: number; starting: number } {
    return this.warm.counts();
  }

  // Every managed Job: as watched, and those created here the watch has not shown yet.
  private knownJobs(): V1Job[] {
    const jobs = new Map<string, V1Job>();
    for (const job of this.created.values()) jobs.set(job.metadata?.name ?? '', job);
    for (const job of this.jobs.list()) jobs.set(job.metadata?.name ?? '', job);
    return [...jobs.values()];
  }

  // The Job of a task attempt: its own (named after it), or a warm Job it was given to.
  private jobOfAttempt(taskId: string, attempt: number): V1Job | undefined {
    const name = taskJobName(taskId, attempt);
    return (
      this.jobs.get(name) ??
      this.created.get(name) ??
      this.knownJobs().find(
        (job) =>
          job.metadata?.labels?.[TASK_LABEL] === taskId &&
          job.metadata.labels[ATTEMPT_LABEL] === String(attempt),
      )
    );
  }

  // runner.cancel: delete the task's Job now rather than at the next resync.
  async cancel(taskId: string): Promise<void> {
    if (!this.isLeader) return;
    for (const job of this.jobs.list()) {
      if (job.metadata?.labels?.[TASK_LABEL] === taskId) await this.enqueueReconcile(job.metadata.name ?? '');
    }
  }

  // Every Job against its task: what a missed event would have told us, and unschedulable pods'
  // timeouts.
  resync(): Promise<void> {
    return Promise.all(this.jobs.list().map((job) => this.enqueueReconcile(job.metadata?.name ?? ''))).then(
      () => undefined,
    );
  }

  private async lead() {
    this.metrics.leader.set(1);
    await Promise.all([this.jobs.start(), this.pods.start()]);
    if (!this.isLeader) return; // lost the Lease while the first lists came in
    // Jobs are judged with their pods: not before both lists are in (a Job listed before its
    // OOM-killed pod would read as a plain failure, and be retried).
    this.listed = true;
    // Adoption: the Jobs listed are reconciled like any other; a task whose Job exists is not
    // given a second one (its name derives from the task id and attempt).
    await this.resync();
    this.warm.start();
    await this.warmPods.removeRevokedBefore(new Date(Date.now() - 24 * 3600 * 1000));
    await this.intake.open(this);
    this.acting = true;
    const tick = () => {
      if (!this.acting) return; // a pass that was in flight when leadership ended schedules no more
      this.resyncTimer = setTimeout(() => {
        this.warm.refresh();
        this.resyncing = this.resync().finally(tick);
      }, this.config.RUNNER_JOB_RESYNC_MS);
    };
    tick();
  }

  private async follow() {
    this.metrics.leader.set(0);
    this.acting = false;
    this.listed = false;
    clearTimeout(this.resyncTimer);
    await this.resyncing;
    await this.warm.stop();
    this.wakeCapacityWaiters();
    await this.intake.close();
    await Promise.all([this.jobs.stop(), this.pods.stop()]);
    await Promise.all(this.reconciling.values());
    this.created.clear();
    this.secured.clear();
  }

  // One queue job: make the task attempt's Job, within the caps. A task over its project's cap
  // goes back to the queue for a while; over the cluster's cap the queue waits (nothing else
  // could start anyway).
  capacity(): { slots: number; running: number } {
    return { slots: this.config.RUNNER_MAX_JOBS, running: this.activeJobs().length };
  }

  async take(job: Job<TaskJob>, token: string | undefined): Promise<string> {
    const { taskId, attempt } = job.data;
    const [task] = await this.tasks.jobStates([taskId]);
    if (!task || task.status !== 'QUEUED' || task.attempts !== attempt - 1)
      return 'skipped: the task is no longer waiting for this attempt';
    if (this.jobOfAttempt(taskId, attempt)) return 'adopted: its Job exists';
    // A task pod's workspace is its own: one that must work in an earlier task's cannot start.
    const full = await this.tasks.get(taskId);
    const { workspaceOf } = full;
    if (workspaceOf) {
      const reason = `workspace: ${sharedWorkspaceInPod(taskId, workspaceOf)}`;
      if (await this.lifecycle.failUnstarted(taskId, attempt, reason))
        this.logger.warn(`task ${taskId}: ${reason}; failed before it started`);
      return 'refused: a shared workspace';
    }

    while (this.activeJobs().length >= this.config.RUNNER_MAX_JOBS) {
      if (!(await this.capacityFreed())) return this.later(job, token, 0);
    }

    const withId = await this.profiles.ofTaskWithId(task.id);
    const warm = await this.warm.take(full, attempt, withId, this.credentials.expiry(task));
    if (warm && 'job' in warm) {
      const name = warm.job.metadata?.name ?? '';
      await this.serialized(name, () => this.labelAssigned(warm.job, task, attempt));
      return 'warm-job-assigned';
    }
    return this.createJob(job, token, task, attempt, withId.profile);
  }

  // The attempt's own Job, then its token in the Job's Secret.
  private async createJob(
    job: Job<TaskJob> | null,
    token: string | undefined,
    task: TaskJobState,
    attempt: number,
    profile: Awaited<ReturnType<ProfileRepository['ofTask']>>,
  ): Promise<string> {
    const name = taskJobName(task.id, attempt);
    const body = buildTaskJob(
      {
        id: task.id,
        projectId: task.projectId,
        attempt,
        timeoutSeconds: task.timeoutSeconds,
        conversationId: task.conversationId,
        resources: profile.resources ?? undefined,
      },
      this.settings,
    );
    try {
      if (task.conversationId && this.settings.conversationClaims)
        await this.ensureClaim(task.conversationId, task.projectId);
      const created = await this.kube.batch.createNamespacedJob({ namespace: this.settings.namespace, body });
      if (!this.jobs.get(name)) this.created.set(name, created);
      this.metrics.created.inc();
      this.logger.log(`task ${task.id} attempt ${attempt}: Job ${name} created`);
      // Its pod waits for the token; a failure here is retried by the Job's reconcile.
      await this.serialized(name, () => this.provideToken(created, task, attempt, profile.provider));
      return 'job-created';
    } catch (error) {
      const status = statusOf(error);
      if (status === 409) return 'adopted: its Job exists';
      // The API refused this Job for good (invalid spec): the task cannot run this way.
      if (status === 400 || status === 422) {
        await this.failUnstarted(task, attempt, {
          reason: 'pod-config',
          message: `the cluster refused the task's Job: ${apiMessage(error)}`,
          retry: false,
        });
        return 'job-refused';
      }
      // Quota, throttling, an API server away: try again shortly, nothing lost.
      this.logger.warn(`task ${task.id}: Job ${name} not created (${status ?? String(error)}); retrying`);
      if (!job) throw error;
      return this.later(job, token, this.config.RUNNER_JOB_REQUEUE_DELAY_MS);
    }
  }

  // An attempt given to a warm Job: its pod is told at once (it waits on the task API), and the
  // Job becomes the attempt's like any task Job — its labels (reconcile, cancel, adoption find it
  // by them), and its deadline the task's timeout from now.
  private async labelAssigned(job: V1Job, task: TaskJobState, attempt: number): Promise<void> {
    const name = job.metadata?.name ?? '';
    this.assignments.assigned(name);
    this.secured.add(name);
    const started = job.status?.startTime ?? job.metadata?.creationTimestamp;
    const warmSeconds = started
      ? Math.max(0, Math.ceil((Date.now() - new Date(started).getTime()) / 1000))
      : 0;
    const labels = {
      [TASK_LABEL]: task.id,
      [PROJECT_LABEL]: task.projectId,
      [ATTEMPT_LABEL]: String(attempt),
    };
    const patched = await this.kube.batch.patchNamespacedJob(
      {
        name,
        namespace: this.settings.namespace,
        body: {
          metadata: { labels, annotations: { [WARM_SECONDS_ANNOTATION]: String(warmSeconds) } },
          spec: { activeDeadlineSeconds: warmSeconds + task.timeoutSeconds },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    if (this.created.has(name)) this.created.set(name, patched);
    this.logger.log(`task ${task.id} attempt ${attempt}: given to warm Job ${name}`);
  }

  // The first turn of a conversation makes its claim; later turns find it (409).
  private async ensureClaim(conversationId: string, projectId: string) {
    try {
      await this.kube.core.createNamespacedPersistentVolumeClaim({
        namespace: this.settings.namespace,
        body: buildConversationClaim(conversationId, projectId, this.settings),
      });
      this.logger.log(
        `conversation ${conversationId}: claim ${conversationClaimName(conversationId)} created`,
      );
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
  }

  private async later(job: Job<TaskJob>, token: string | undefined, delayMs: number): Promise<never> {
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw delayedJob();
  }

  // Resolves true when a Job finished or went away, false when this replica stopped leading.
  private capacityFreed(): Promise<boolean> {
    if (!this.isLeader) return Promise.resolve(false);
    return new Promise((resolve) => this.capacityWaiters.push(() => resolve(this.isLeader)));
  }

  private wakeCapacityWaiters() {
    const waiters = this.capacityWaiters;
    this.capacityWaiters = [];
    for (const wake of waiters) wake();
  }

  // A task pod's agent waited for approvals: its Job's deadline (the task's timeout) moves back
  // by all the attempt has waited, as the timeout inside the pod does (docs/governance.md).
  private async extendDeadline(grant: AttemptGrant, waitedMs: number): Promise<void> {
    if (grant.task.sandbox !== 'pod') return;
    const name = runnerIdOf(grant);
    // A warm Job's deadline counts from its own start, before the attempt was given to it.
    const warmSeconds = grant.runnerId
      ? Number(
          (await this.kube.batch.readNamespacedJob({ name, namespace: this.config.RUNNER_JOB_NAMESPACE }))
            .metadata?.annotations?.[WARM_SECONDS_ANNOTATION] ?? '0',
        )
      : 0;
    const activeDeadlineSeconds = warmSeconds + grant.task.timeoutSeconds + Math.ceil(waitedMs / 1000);
    await this.kube.batch.patchNamespacedJob(
      {
        name,
        namespace: this.config.RUNNER_JOB_NAMESPACE,
        body: { spec: { activeDeadlineSeconds } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    this.logger.log(
      `task ${grant.taskId}: its Job's deadline is now ${activeDeadlineSeconds}s (approvals waited)`,
    );
  }

  private onJobChanged(job: V1Job) {
    const name = job.metadata?.name ?? '';
    this.created.delete(name);
    if (isJobFinished(job)) this.wakeCapacityWaiters();
    void this.enqueueReconcile(name);
  }

  private onJobGone(job: V1Job) {
    const name = job.metadata?.name ?? '';
    this.created.delete(name);
    this.wakeCapacityWaiters();
    void this.enqueueReconcile(name, job);
  }

  private onPodChanged(pod: V1Pod) {
    const jobName = jobNameOf(pod);
    if (jobName && this.jobs.get(jobName)) void this.enqueueReconcile(jobName);
  }

  private enqueueReconcile(name: string, gone?: V1Job): Promise<void> {
    return this.serialized(name, () => (gone ? this.reconcileGone(gone) : this.reconcile(name)));
  }

  // Work on one Job, after whatever is queued for it already.
  private serialized(name: string, work: () => Promise<void>): Promise<void> {
    const previous = this.reconciling.get(name) ?? Promise.resolve();
    const next = previous
      .then(work)
      .catch((error: unknown) => this.logger.error({ err: error, job: name }, 'reconcile failed'))
      .finally(() => {
        if (this.reconciling.get(name) === next) this.reconciling.delete(name);
      });
    this.reconciling.set(name, next);
    return next;
  }

  private async reconcile(name: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job || !this.isLeader || !this.listed) return;
    if (isIdleWarmJob(job)) {
      // Given an attempt by a leader that stopped before it labelled the Job: labelled now (its
      // change brings it back here as the attempt's).
      const assignment = (await this.warmPods.get(name))?.assignment;
      const [task] = assignment ? await this.tasks.jobStates([assignment.taskId]) : [];
      if (assignment && task) return this.labelAssigned(job, task, assignment.attempt);
      // Otherwise it is the warm Jobs' to judge (failed, retired, replaced).
      this.warm.refresh();
      return;
    }
    const { taskId, attempt } = identify(job);
    const [task] = await this.tasks.jobStates([taskId]);
    const finished = isJobFinished(job);
    const deleting = Boolean(job.metadata?.deletionTimestamp);
    if (!task || task.status === 'CANCELLED') {
      // Cancelled (or deleted) while its Job runs: stop the Job.
      if (!finished && !deleting) await this.deleteJob(name, task ? 'task cancelled' : 'task gone');
      if (task) await this.credentials.revoke(task.id, attempt);
      return;
    }
    // Its pod recorded the outcome and is on its way out: the Job stays, with its logs, until
    // its TTL.
    if (TERMINAL_STATUSES.includes(task.status)) return;
    if (task.status === 'RUNNING' && task.runnerId === name && task.cancelRequestedAt) {
      // Foreground: the Job goes once its pod has stopped; the pod records CANCELLED itself.
      if (!deleting) await this.deleteJob(name, 'task cancelled');
      return;
    }
    if (!this.waitsOn(task, name, attempt)) return;
    // A Job adopted from an earlier leader, or whose Secret could not be made: its pod waits.
    if (task.status === 'QUEUED' && !finished && !deleting) await this.ensureToken(job, task, attempt);
    const failure =
      jobFailure(job, this.podsOf(name), {
        now: new Date(),
        pendingTimeoutSeconds: this.config.RUNNER_JOB_PENDING_TIMEOUT_SECONDS,
      }) ??
      (finished
        ? {
            reason: 'pod-failed' as const,
            message: "the pod ended without recording the task's outcome (see its logs)",
            retry: true,
          }
        : null);
    if (!failure) return;
    if (task.status === 'QUEUED' && name !== taskJobName(task.id, attempt) && failure.retry) {
      // A warm pod lost before it could claim the attempt given to it: the attempt starts cold.
      await this.credentials.revoke(task.id, attempt);
      if (!finished && !deleting) await this.deleteJob(name, failure.reason);
      this.logger.warn(
        `task ${task.id}: warm Job ${name} was lost before its claim (${failure.reason}); starting it cold`,
      );
      await this.createJob(null, undefined, task, attempt, await this.profiles.ofTask(task.id));
      return;
    }
    await this.concludeAttempt(task, name, attempt, failure);
    // An unschedulable or unpullable pod would wait forever: free what it holds.
    if (!finished && !deleting) await this.deleteJob(name, failure.reason);
  }

  // The Job is gone. If its task still waits on it, someone deleted it (or its pod was killed
  // before it could record anything).
  private async reconcileGone(job: V1Job): Promise<void> {
    if (!this.isLeader) return;
    const name = job.metadata?.name ?? '';
    if (job.metadata?.labels?.[WARM_PROFILE_LABEL] !== undefined) {
      const assignment = (await this.warmPods.get(name))?.assignment;
      await this.warmPods.revoke(name);
      this.warm.forget(name);
      // Gone unused, or given an attempt it had not been labelled with yet.
      if (!job.metadata.labels[TASK_LABEL]) {
        if (!assignment) return;
        job = {
          ...job,
          metadata: {
            ...job.metadata,
            labels: {
              ...job.metadata.labels,
              [TASK_LABEL]: assignment.taskId,
              [ATTEMPT_LABEL]: String(assignment.attempt),
            },
          },
        };
      }
    }
    const { taskId, attempt } = identify(job);
    const [task] = await this.tasks.jobStates([taskId]);
    if (!task || !this.waitsOn(task, name, attempt)) return;
    if (task.status === 'RUNNING' && task.cancelRequestedAt) {
      await this.lifecycle.finish(task.id, name, {
        status: 'CANCELLED',
        error: 'cancelled: stopped on request',
      });
      await this.credentials.revoke(task.id, attempt);
      return;
    }
    await this.concludeAttempt(task, name, attempt, {
      reason: 'job-deleted',
      message: `the Job ${name} was deleted before its task finished`,
      retry: false,
    });
  }

  // The attempt is over without an outcome from its pod: the task fails with the reason, or
  // (a lost run, with attempts left) goes back to QUEUED, and the orchestrator's reconciler
  // enqueues its next attempt.
  private async concludeAttempt(task: TaskJobState, name: string, attempt: number, failure: JobFailure) {
    this.metrics.failures.inc({ reason: failure.reason });
    // Whatever the task becomes, this attempt's pod is done: its token is good for nothing more.
    await this.credentials.revoke(task.id, attempt);
    if (task.status === 'QUEUED') return this.failUnstarted(task, attempt, failure);
    const updated = await this.lifecycle.attemptLost(task, name, failure);
    if (updated)
      this.logger.warn(
        `task ${task.id}: ${updated.error}; ${updated.status === 'QUEUED' ? 'retrying' : 'failed'}`,
      );
  }

  private async failUnstarted(task: TaskJobState, attempt: number, failure: JobFailure) {
    const reason = `${failure.reason}: ${failure.message}`;
    if (await this.lifecycle.failUnstarted(task.id, attempt, reason))
      this.logger.warn(`task ${task.id}: ${reason}; failed before it started`);
  }

  // The attempt's token, in the Job's own Secret (buildTaskTokenSecret), once per Job.
  private async provideToken(
    job: V1Job,
    task: TaskJobState,
    attempt: number,
    provider: string,
    onConflict: 'check' | 'fail' = 'check',
  ) {
    const name = job.metadata?.name ?? '';
    if (this.secured.has(name)) return;
    const token = await this.credentials.issue(task, attempt, provider);
    try {
      await this.kube.core.createNamespacedSecret({
        namespace: this.settings.namespace,
        body: buildTaskTokenSecret(job, token),
      });
    } catch (error) {
      if (statusOf(error) !== 409 || onConflict === 'fail') throw error;
      // One of that name exists: ours (a reconcile made it), or left by an earlier Job.
      return this.ensureToken(job, task, attempt);
    }
    this.secured.add(name);
    this.logger.log(`task ${task.id} attempt ${attempt}: Secret ${name} holds its token`);
  }

  // Makes sure the Job's Secret exists and is the Job's (owned by its uid), else makes it.
  private async ensureToken(job: V1Job, task: TaskJobState, attempt: number) {
    const name = job.metadata?.name ?? '';
    if (this.secured.has(name)) return;
    const namespace = this.settings.namespace;
    try {
      const found = await this.kube.core.readNamespacedSecret({ name, namespace });
      if (found.metadata?.ownerReferences?.some((owner) => owner.uid === job.metadata?.uid)) {
        this.secured.add(name);
        return;
      }
      await this.kube.core.deleteNamespacedSecret({ name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    const profile = await this.profiles.ofTask(task.id);
    await this.provideToken(job, task, attempt, profile.provider, 'fail');
  }

  private async deleteJob(name: string, why: string) {
    try {
      // Foreground: the Job stays (with a deletionTimestamp) until its pods are gone, so its
      // deletion event means the pod had its chance to record how the run ended.
      await this.kube.batch.deleteNamespacedJob({
        name,
        namespace: this.settings.namespace,
        propagationPolicy: 'Foreground',
      });
      this.logger.log(`Job ${name} deleted (${why})`);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  // Whether the task still waits on this Job's attempt (ownsAttempt); not on a warm Job lost
  // before its claim once the attempt has a Job of its own instead.
  private waitsOn(task: TaskJobState, name: string, attempt: number): boolean {
    if (!ownsAttempt(task, name, attempt)) return false;
    const own = taskJobName(task.id, attempt);
    return task.status !== 'QUEUED' || name === own || !(this.jobs.get(own) ?? this.created.get(own));
  }

  private podsOf(jobName: string): V1Pod[] {
    return this.pods.list().filter((pod) => jobNameOf(pod) === jobName);
  }
}

// Whether the task still waits on this Job's attempt: the pod claimed it (the Job's name is
// its runner id, a warm Job's too), or it has not claimed it yet.
function ownsAttempt(task: TaskJobState, name: string, attempt: number): boolean {
  if (task.status === 'RUNNING') return task.runnerId === name;
  return task.status === 'QUEUED' && task.attempts === attempt - 1;
}

// The Job a pod belongs to, by the label the Job controller sets (`job-name` before 1.27).
function jobNameOf(pod: V1Pod): string | undefined {
  return pod.metadata?.labels?.[JOB_NAME_LABEL] ?? pod.metadata?.labels?.['job-name'];
}

function identify(job: V1Job): { taskId: string; attempt: number } {
  const labels = job.metadata?.labels ?? {};
  return { taskId: labels[TASK_LABEL] ?? '', attempt: Number(labels[ATTEMPT_LABEL] ?? '0') };
}

function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const { message } = JSON.parse(body) as { message?: unknown };
      return typeof message === 'string' ? message : body;
    } catch {
      return body;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

export function taskJobSettings(config: AgentRunnerConfig): TaskJobSettings {
  const env: V1EnvVar[] = [];
  for (const name of FORWARDED_SETTINGS) env.push({ name, value: String(config[name]) });
  return {
    namespace: config.RUNNER_JOB_NAMESPACE,
    image: config.RUNNER_JOB_IMAGE ?? '',
    command: config.RUNNER_JOB_COMMAND,
    taskApiUrl: config.RUNNER_TASK_API_URL ?? '',
    env,
    resources: config.RUNNER_JOB_RESOURCES,
    ttlSecondsAfterFinished: config.RUNNER_JOB_TTL_SECONDS,
    runtimeClassName: config.RUNNER_JOB_RUNTIME_CLASS,
    nodeSelector:
      Object.keys(config.RUNNER_JOB_NODE_SELECTOR).length > 0 ? config.RUNNER_JOB_NODE_SELECTOR : undefined,
    tolerations: config.RUNNER_JOB_TOLERATIONS.length > 0 ? config.RUNNER_JOB_TOLERATIONS : undefined,
    conversationClaims: config.RUNNER_JOB_CONVERSATION_CLAIMS
      ? {
          size: config.RUNNER_JOB_CONVERSATION_STORAGE_SIZE,
          storageClassName: config.RUNNER_JOB_CONVERSATION_STORAGE_CLASS,
        }
      : undefined,
  };
}
