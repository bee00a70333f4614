import {
  buildTaskJob,
  conversationClaimName,
  MODEL_KEY_DIR,
  taskJobName,
  TASK_LABEL,
  type TaskJobSettings,
} from '../src/modules/kubernetes/task-job';

const settings: TaskJobSettings = {
  namespace: 'hangar-tasks',
  image: 'registry.example.com/hangar-agent-runner:0.2.0',
  command: ['node', 'services/agent-runner/dist/run-task.js'],
  apiKeySecret: 'hangar-model',
  env: [{ name: 'HANGAR_REDIS_PREFIX', value: 'hangar' }],
  secretEnv: {
    DATABASE_URL: { name: 'hangar-database', key: 'DATABASE_URL' },
    REDIS_URL: { name: 'hangar-redis', key: 'REDIS_URL' },
  },
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
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'HANGAR_TASK_ATTEMPT', value: '2' },
        // The run's runner id is the Job's name: the controller knows whose attempt it is.
        { name: 'RUNNER_ID', value: 'hangar-task-cmx5abc0000xyz-2' },
        { name: 'HANGAR_REDIS_PREFIX', value: 'hangar' },
        {
          name: 'DATABASE_URL',
          valueFrom: { secretKeyRef: { name: 'hangar-database', key: 'DATABASE_URL' } },
        },
        { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'hangar-redis', key: 'REDIS_URL' } } },
      ]),
    );
    expect(container.resources).toEqual(settings.resources);
  });

  it('should lock the pod down and give it the model key as a read-only file, not an env var', () => {
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
    expect(JSON.stringify(container.env)).not.toMatch(/API_KEY"/);
    expect(container.env).toEqual(
      expect.arrayContaining([{ name: 'HANGAR_MODEL_KEY_DIR', value: MODEL_KEY_DIR }]),
    );
    expect(container.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'model-key', mountPath: MODEL_KEY_DIR, readOnly: true }]),
    );
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        {
          name: 'model-key',
          secret: { secretName: 'hangar-model', defaultMode: 0o400, optional: true },
        },
        { name: 'workspace', emptyDir: {} },
      ]),
    );
    // Writable places only: the workspace, the agent's home and /tmp.
    expect(
      container.volumeMounts?.filter((mount) => !mount.readOnly).map((mount) => mount.mountPath),
    ).toEqual(['/workspace', '/home/agent', '/tmp']);
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

  it('should run the scripted model without a key Secret', () => {
    const pod = buildTaskJob(task, { ...settings, apiKeySecret: undefined }).spec!.template.spec!;
    expect(pod.volumes?.map((volume) => volume.name)).not.toContain('model-key');
    expect(pod.containers[0]?.env?.map((variable) => variable.name)).not.toContain('HANGAR_MODEL_KEY_DIR');
  });

  it('should name Jobs as Kubernetes allows, and refuse an id that cannot make one', () => {
    expect(taskJobName('ABC_def', 1)).toBe('hangar-task-abc-def-1');
    expect(() => taskJobName('x'.repeat(60), 1)).toThrow(/longer than 63/);
  });
});
