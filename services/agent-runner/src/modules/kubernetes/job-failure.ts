import type { V1Job, V1Pod } from '@kubernetes/client-node';

// Why a task Job ended its attempt without the task's own run recording an outcome, read from
// what the Job controller and the kubelet report. `retry`: the infrastructure lost the run
// (the task gets another attempt while it has attempts left); otherwise the next attempt would
// fail the same way, and the task fails.
export interface JobFailure {
  reason:
    | 'unschedulable'
    | 'image-pull'
    | 'pod-config'
    | 'oom-killed'
    | 'deadline-exceeded'
    | 'evicted'
    | 'pod-failed'
    | 'job-deleted';
  message: string;
  retry: boolean;
}

// Waiting reasons of a container whose image cannot be had; ErrImagePull alone is the first,
// possibly passing, failure: the kubelet retries it and reports ImagePullBackOff when it persists.
const IMAGE_PULL_FAILURES = new Set(['ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError']);

export function isJobFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some(
    (condition) =>
      (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
  );
}

export function jobFailedCondition(job: V1Job) {
  return (job.status?.conditions ?? []).find(
    (condition) =>
      (condition.type === 'Failed' || condition.type === 'FailureTarget') && condition.status === 'True',
  );
}

// What went wrong with a task Job and its pods, or null while nothing did (pending within its
// time, running, or succeeded). `now` and `pendingTimeoutSeconds` bound how long a pod may stay
// unschedulable.
export function jobFailure(
  job: V1Job,
  pods: V1Pod[],
  options: { now: Date; pendingTimeoutSeconds: number },
): JobFailure | null {
  for (const pod of pods) {
    const failure = podFailure(pod, job, options);
    if (failure) return failure;
  }
  const failed = jobFailedCondition(job);
  if (!failed) return null;
  if (failed.reason === 'DeadlineExceeded') {
    return {
      reason: 'deadline-exceeded',
      message: `the Job ran longer than its deadline (${job.spec?.activeDeadlineSeconds ?? '?'}s) and was stopped`,
      retry: false,
    };
  }
  return {
    reason: 'pod-failed',
    message: `the Job failed (${failed.reason ?? 'no reason given'}: ${failed.message ?? ''})`.replace(
      /: \)$/,
      ')',
    ),
    retry: true,
  };
}

function podFailure(
  pod: V1Pod,
  job: V1Job,
  options: { now: Date; pendingTimeoutSeconds: number },
): JobFailure | null {
  const status = pod.status ?? {};
  const container = status.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  if (terminated?.reason === 'OOMKilled') {
    const limit = job.spec?.template.spec?.containers[0]?.resources?.limits?.['memory'];
    return {
      reason: 'oom-killed',
      message: `the agent's container used more memory than its limit${limit ? ` (${String(limit)})` : ''} and was killed`,
      retry: false,
    };
  }
  if (status.phase === 'Failed' && status.reason === 'Evicted') {
    return {
      reason: 'evicted',
      message: `the pod was evicted: ${status.message ?? 'no message'}`,
      retry: true,
    };
  }
  const disruption = status.conditions?.find(
    (condition) => condition.type === 'DisruptionTarget' && condition.status === 'True',
  );
  if (status.phase === 'Failed' && disruption) {
    return {
      reason: 'evicted',
      message: `the pod was disrupted (${disruption.reason ?? 'no reason'}): ${disruption.message ?? status.message ?? ''}`,
      retry: true,
    };
  }
  const waiting = container?.state?.waiting;
  if (waiting?.reason && IMAGE_PULL_FAILURES.has(waiting.reason)) {
    return {
      reason: 'image-pull',
      message: `the image ${container?.image ?? ''} cannot be pulled (${waiting.reason}: ${waiting.message ?? ''})`,
      retry: false,
    };
  }
  if (waiting?.reason && CONFIG_FAILURES.has(waiting.reason)) {
    return {
      reason: 'pod-config',
      message: `the agent's container cannot be created (${waiting.reason}: ${waiting.message ?? ''})`,
      retry: false,
    };
  }
  const unscheduled = status.conditions?.find(
    (condition) =>
      condition.type === 'PodScheduled' &&
      condition.status === 'False' &&
      condition.reason === 'Unschedulable',
  );
  if (unscheduled && status.phase === 'Pending') {
    const since = new Date(unscheduled.lastTransitionTime ?? pod.metadata?.creationTimestamp ?? options.now);
    if (options.now.getTime() - since.getTime() >= options.pendingTimeoutSeconds * 1000) {
      return {
        reason: 'unschedulable',
        message: `no node could run the pod for ${options.pendingTimeoutSeconds}s: ${unscheduled.message ?? 'no message'}`,
        retry: false,
      };
    }
  }
  return null;
}
