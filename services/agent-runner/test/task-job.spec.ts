import type { V1PodSpec } from '@kubernetes/client-node';
import {
  buildTaskJob,
  buildTaskTokenSecret,
  conversationClaimName,
  taskJobName,
  TASK_LABEL,
  TASK_TOKEN_DIR,
  type TaskJobSettings,
} from '../src/modules/kubernetes/task-job';

const settings: TaskJobSettings = {
  namespace: 'hangar-tasks',
  image: 'registry.example.com/hangar-agent-runner:0.2.0',
  command: ['node', 'services/agent-runner/dist/run-task.js'],
  taskApiUrl: 'http://hangar-agent-runner.hangar.svc:4011',
  env: [{ name: 'RUNNER_MAX_EVENT_BYTES', value: '1048576' }],
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } },
  ttlSecondsAfterFinished: 600,
};
const task = { id: 'cmx5abc0000xyz', projectId: 'proj1', attempt: 2, timeoutSeconds: 1800 };

describe(buildTaskJob.name, () => {
  it('should make one Job per task attempt, never retried by Kubernetes and bounded by the task timeout', () => {
    const job = buildTaskJob(task, settings);
    expect(job.metadata).toMatchObject({
      name: 'hangar-task-cmx5abc0000xyz-2',
      namespace: 'hangar-tasks',
      labels: { [TASK_LABEL]: task.id, 'hangar.dev/project': 'proj1', 'hangar.dev/attempt': '2' },
    });
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 1800,
      ttlSecondsAfterFinished: 600,
    });
    // The same input gives the same name: a restarted controller finds the Job instead of making another.
    expect(buildTaskJob(task, settings).metadata?.name).toBe(job.metadata?.name);
    expect(job.spec?.template.metadata?.labels?.[TASK_LABEL]).toBe(task.id);
    const container = job.spec!.template.spec!.containers[0]!;
    expect(container.command).toEqual(['node', 'services/agent-runner/dist/run-task.js', task.id]);
    // Plain values only: where the task API is, where the token is, the attempt and limits.
    expect(container.env).toEqual([
      { name: 'RUNNER_MAX_EVENT_BYTES', value: '1048576' },
      { name: 'HANGAR_TASK_ATTEMPT', value: '2' },
      { name: 'RUNNER_TASK_API_URL', value: 'http://hangar-agent-runner.hangar.svc:4011' },
      { name: 'HANGAR_TASK_TOKEN_FILE', value: `${TASK_TOKEN_DIR}/token` },
      { name: 'WORKSPACE_ROOT', value: '/workspace' },
      { name: 'RUNNER_HOME_ROOT', value: '/home/agent' },
    ]);
    expect(container.resources).toEqual(settings.resources);
  });

  it("should lock the pod down and give it the attempt's token as a read-only file of its own Secret", () => {
    const pod = buildTaskJob(task, settings).spec!.template.spec!;
    expect(pod).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    });
    const container = pod.containers[0]!;
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.env?.every((variable) => variable.valueFrom === undefined)).toBe(true);
    expect(container.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'task-token', mountPath: TASK_TOKEN_DIR, readOnly: true }]),
    );
    expect(pod.volumes).toEqual([
      { name: 'workspace', emptyDir: {} },
      { name: 'home', emptyDir: {} },
      { name: 'tmp', emptyDir: {} },
      {
        name: 'task-token',
        secret: {
          secretName: 'hangar-task-cmx5abc0000xyz-2',
          defaultMode: 0o400,
          items: [{ key: 'token', path: 'token' }],
        },
      },
    ]);
    // Writable places only: the workspace, the agent's home and /tmp.
    expect(
      container.volumeMounts?.filter((mount) => !mount.readOnly).map((mount) => mount.mountPath),
    ).toEqual(['/workspace', '/home/agent', '/tmp']);
  });

  it('should meet the restricted Pod Security Standard, which the jobs namespace enforces', () => {
    for (const job of [
      buildTaskJob(task, settings),
      buildTaskJob({ ...task, conversationId: 'c1' }, { ...settings, conversationClaims: { size: '1Gi' } }),
    ])
      expect(restrictedViolations(job.spec!.template.spec!)).toEqual([]);
  });

  it('should apply the sandbox runtime, placement, the owner and a profile’s own resources', () => {
    const job = buildTaskJob(
      { ...task, resources: { limits: { memory: '8Gi' } } },
      {
        ...settings,
        runtimeClassName: 'gvisor',
        nodeSelector: { 'hangar.dev/sandbox': 'true' },
        tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }],
        owner: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hangar-agent-runner', uid: 'u-1' },
      },
    );
    expect(job.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'hangar-agent-runner',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: false,
      },
    ]);
    expect(job.spec?.template.spec).toMatchObject({
      runtimeClassName: 'gvisor',
      nodeSelector: { 'hangar.dev/sandbox': 'true' },
      tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(job.spec?.template.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      // The profile's memory limit; the default CPU limit stays.
      limits: { cpu: '2', memory: '8Gi' },
    });
  });

  it('should keep a conversation’s workspace on its claim when conversations have storage', () => {
    const job = buildTaskJob(
      { ...task, conversationId: 'conv42' },
      { ...settings, conversationClaims: { size: '5Gi', storageClassName: 'standard' } },
    );
    expect(job.spec?.template.spec?.volumes).toEqual(
      expect.arrayContaining([
        { name: 'workspace', persistentVolumeClaim: { claimName: conversationClaimName('conv42') } },
      ]),
    );
    expect(
      buildTaskJob({ ...task, conversationId: 'conv42' }, settings).spec?.template.spec?.volumes,
    ).toEqual(expect.arrayContaining([{ name: 'workspace', emptyDir: {} }]));
  });

  it('should put the token in a Secret named and owned by the Job, immutable, never in the Job', () => {
    const job = buildTaskJob(task, settings);
    job.metadata!.uid = 'job-uid-1';
    const secret = buildTaskTokenSecret(job, 'hga_secret-token');
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'hangar-task-cmx5abc0000xyz-2',
        namespace: 'hangar-tasks',
        labels: job.metadata!.labels,
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: 'hangar-task-cmx5abc0000xyz-2',
            uid: 'job-uid-1',
            blockOwnerDeletion: false,
          },
        ],
      },
      type: 'Opaque',
      immutable: true,
      data: { token: Buffer.from('hga_secret-token').toString('base64') },
    });
    expect(JSON.stringify(job)).not.toContain('hga_');
    // Not before the Job exists: the owner reference needs its uid.
    expect(() => buildTaskTokenSecret(buildTaskJob(task, settings), 'hga_x')).toThrow(/uid/);
  });

  it('should name Jobs as Kubernetes allows, and refuse an id that cannot make one', () => {
    expect(taskJobName('ABC_def', 1)).toBe('hangar-task-abc-def-1');
    expect(() => taskJobName('x'.repeat(60), 1)).toThrow(/longer than 63/);
  });
});

// The checks of the restricted Pod Security Standard (kubernetes.io/docs/concepts/security/
// pod-security-standards, baseline and restricted), as the admission controller applies them.
function restrictedViolations(pod: V1PodSpec): string[] {
  const problems: string[] = [];
  const containers = [...(pod.initContainers ?? []), ...pod.containers];
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push('host namespaces');
  const allowedVolumes = [
    'configMap',
    'csi',
    'downwardAPI',
    'emptyDir',
    'ephemeral',
    'persistentVolumeClaim',
    'projected',
    'secret',
  ];
  for (const volume of pod.volumes ?? []) {
    const kinds = Object.keys(volume).filter((key) => key !== 'name');
    if (!kinds.every((kind) => allowedVolumes.includes(kind)))
      problems.push(`volume ${volume.name}: ${kinds.join()}`);
  }
  if (pod.securityContext?.sysctls?.length) problems.push('sysctls');
  const podSeccomp = pod.securityContext?.seccompProfile?.type;
  for (const container of containers) {
    const context = container.securityContext ?? {};
    const where = `container ${container.name}`;
    if (context.privileged) problems.push(`${where}: privileged`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation`);
    if (!(context.runAsNonRoot ?? pod.securityContext?.runAsNonRoot)) problems.push(`${where}: runAsNonRoot`);
    if ((context.runAsUser ?? pod.securityContext?.runAsUser) === 0) problems.push(`${where}: runAsUser 0`);
    const seccomp = context.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      problems.push(`${where}: seccomp ${seccomp}`);
    if (!context.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities not dropped`);
    if ((context.capabilities?.add ?? []).some((capability) => capability !== 'NET_BIND_SERVICE'))
      problems.push(`${where}: capabilities added`);
    if (context.procMount && context.procMount !== 'Default') problems.push(`${where}: procMount`);
    if ((container.ports ?? []).some((port) => port.hostPort)) problems.push(`${where}: hostPort`);
  }
  return problems;
}
