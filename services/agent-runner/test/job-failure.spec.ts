import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { jobFailure } from '../src/modules/kubernetes/job-failure';

// The pending timeout and the first-pull case, which the executor's tests with the fake API
// (every failure reason end to end) cannot show without waiting minutes.
describe(jobFailure.name, () => {
  const job: V1Job = { metadata: { name: 'hangar-task-t1-1' }, spec: { template: {} } };
  const unschedulable = (since: Date): V1Pod => ({
    metadata: { name: 'hangar-task-t1-1-abcde', creationTimestamp: since },
    status: {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient cpu.',
          lastTransitionTime: since,
        },
      ],
    },
  });

  it('should give an unschedulable pod its pending timeout before failing the task', () => {
    const now = new Date('2026-12-02T10:05:00Z');
    const options = { now, pendingTimeoutSeconds: 300 };
    expect(jobFailure(job, [unschedulable(new Date('2026-12-02T10:00:01Z'))], options)).toBeNull();
    expect(jobFailure(job, [unschedulable(new Date('2026-12-02T10:00:00Z'))], options)).toEqual({
      reason: 'unschedulable',
      message: 'no node could run the pod for 300s: 0/3 nodes are available: 3 Insufficient cpu.',
      retry: false,
    });
  });

  it('should let the kubelet retry a first image pull error, and fail on its back-off', () => {
    const pulling = (reason: string): V1Pod => ({
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'agent',
            image: 'hangar/agent-runner:9',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason, message: 'pull access denied' } },
          },
        ],
      },
    });
    const options = { now: new Date(), pendingTimeoutSeconds: 300 };
    expect(jobFailure(job, [pulling('ErrImagePull')], options)).toBeNull();
    expect(jobFailure(job, [pulling('ImagePullBackOff')], options)?.reason).toBe('image-pull');
  });

  it('should say nothing of a running pod', () => {
    const running: V1Pod = { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(jobFailure(job, [running], { now: new Date(), pendingTimeoutSeconds: 0 })).toBeNull();
  });
});
