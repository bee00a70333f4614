import { AgentRunnerConfigSchema } from '@hangar/agent-runner/src/config';
import { CHART_DIR, helm, NAMESPACE, render, RELEASE, templateArgs, valuesFile } from '../src/helm';
import type { KubeObject } from '../src/validate';
import { byKind, containerOf, find, plainEnv, VALUES_FILES, type PodSpec } from './support';

const fullname = RELEASE;

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: 'postgresql://hangar:secret@postgres:5432/hangar',
  REDIS_URL: 'redis://redis:6379',
  GIT_CREDENTIALS: JSON.stringify([
    { host: 'gitlab.example.com', username: 'oauth2', token: 'glpat-secret' },
  ]),
  MODEL_CREDENTIALS: JSON.stringify({ claude: [{ name: 'team-a', key: 'sk-ant-secret', maxConcurrent: 4 }] }),
};

describe('the kubernetes executor', () => {
  let gvisor: KubeObject[];
  beforeAll(async () => {
    gvisor = await render({ valuesFiles: [valuesFile('kubernetes-gvisor-values.yaml')] });
  });

  it.each(VALUES_FILES.filter((file) => file !== 'kubernetes-gvisor-values.yaml'))(
    'should render no Role, RoleBinding, NetworkPolicy or Namespace with the process executor (%s)',
    async (file) => {
      const objects = await render({ valuesFiles: [valuesFile(file)] });
      for (const kind of [
        'Role',
        'RoleBinding',
        'ClusterRole',
        'ClusterRoleBinding',
        'NetworkPolicy',
        'Namespace',
      ]) {
        expect({ kind, objects: byKind(objects, kind) }).toEqual({ kind, objects: [] });
      }
      const env = plainEnv(objects, containerOf(find(objects, 'Deployment', `${fullname}-agent-runner`)));
      expect(env.RUNNER_EXECUTOR).toBe('process');
      expect(Object.keys(env).filter((name) => name.startsWith('RUNNER_JOB_'))).toEqual([]);
    },
  );

  it("should give the process executor's runners their warm pool and spare sandboxes, and refuse more per profile than a profile may ask", async () => {
    const objects = await render({
      valuesFiles: [valuesFile(VALUES_FILES[0]!)],
      set: ['agentRunner.warm.max=6', 'agentRunner.warm.perProfile=1', 'agentRunner.spareSandboxes=3'],
    });
    const env = plainEnv(objects, containerOf(find(objects, 'Deployment', `${fullname}-agent-runner`)));
    expect(env).toMatchObject({
      RUNNER_WARM_MAX: '6',
      RUNNER_WARM_DEFAULT: '1',
      RUNNER_SPARE_SANDBOXES: '3',
    });
    for (const [set, field] of [
      ['agentRunner.warm.perProfile=17', 'perProfile'],
      ['agentRunner.spareSandboxes=-1', 'spareSandboxes'],
    ] as const) {
      const refused = await helm(templateArgs({ valuesFiles: [valuesFile(VALUES_FILES[0]!)], set: [set] }));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(field);
    }
  });

  it("should give the kubernetes executor's controller its warm task pods, within bounds", async () => {
    const objects = await render({
      valuesFiles: [valuesFile('kubernetes-gvisor-values.yaml')],
      set: ['agentRunner.jobs.warmMax=3', 'agentRunner.warm.perProfile=1'],
    });
    const env = plainEnv(objects, containerOf(find(objects, 'Deployment', `${fullname}-agent-runner`)));
    expect(env).toMatchObject({ RUNNER_JOB_WARM_MAX: '3', RUNNER_WARM_DEFAULT: '1', RUNNER_MAX_JOBS: '50' });
    const refused = await helm(
      templateArgs({
        valuesFiles: [valuesFile('kubernetes-gvisor-values.yaml')],
        set: ['agentRunner.jobs.warmMax=101'],
      }),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('warmMax');
  });

  it('should let the controller do exactly what it needs in the jobs namespace', () => {
    const role = find(gvisor, 'Role', `${fullname}-agent-runner`);
    expect(role.metadata.namespace).toBe('hangar-tasks');
    expect(role.rules as PolicyRule[]).toEqual([
      // patch: a deadline pushed back (approvals), a warm Job labelled with the attempt given to it.
      {
        apiGroups: ['batch'],
        resources: ['jobs'],
        verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
      },
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
      // Each Job's token Secret: made, read back, replaced; never listed or watched.
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'delete'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      // conversationClaims.enabled in this values file
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'create'] },
    ]);
    expect(byKind(gvisor, 'ClusterRole')).toEqual([]);
    const binding = find(gvisor, 'RoleBinding', `${fullname}-agent-runner`);
    expect(binding.metadata.namespace).toBe('hangar-tasks');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: `${fullname}-agent-runner`, namespace: 'hangar' },
    ]);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: `${fullname}-agent-runner`,
    });
  });

  it('should tell the executor where and how to run task Jobs', () => {
    const env = plainEnv(gvisor, containerOf(find(gvisor, 'Deployment', `${fullname}-agent-runner`)));
    expect(env).toMatchObject({
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_JOB_NAMESPACE: 'hangar-tasks',
      RUNNER_JOB_IMAGE: 'ghcr.io/hangar-dev/hangar-agent-runner:0.1.0',
      RUNNER_MAX_JOBS: '50',
      // No warm task pods unless asked for.
      RUNNER_JOB_WARM_MAX: '0',
      RUNNER_JOB_RUNTIME_CLASS: 'gvisor',
      RUNNER_JOB_TTL_SECONDS: '1800',
      // Task pods reach the controller's endpoints through its Service.
      RUNNER_TASK_API_HOST: '0.0.0.0',
      RUNNER_TASK_API_PORT: '4011',
      RUNNER_TASK_API_URL: `http://${fullname}-agent-runner.hangar.svc:4011`,
    });
    const service = find(gvisor, 'Service', `${fullname}-agent-runner`);
    expect((service.spec as { ports: unknown[] }).ports).toContainEqual({
      name: 'task-api',
      port: 4011,
      targetPort: 'task-api',
      protocol: 'TCP',
    });
    expect(containerOf(find(gvisor, 'Deployment', `${fullname}-agent-runner`)).ports).toContainEqual({
      name: 'task-api',
      containerPort: 4011,
      protocol: 'TCP',
    });
    expect(JSON.parse(env.RUNNER_JOB_NODE_SELECTOR!)).toEqual({ 'hangar.dev/sandbox': 'gvisor' });
    // A project's cap is the orchestrator's scheduling policy, not the executor's.
    expect(env).not.toHaveProperty('RUNNER_MAX_JOBS_PER_PROJECT');
    const orchestrator = plainEnv(
      gvisor,
      containerOf(find(gvisor, 'Deployment', `${fullname}-orchestrator`)),
    );
    expect(orchestrator.MAX_ACTIVE_TASKS_PER_PROJECT).toBe('10');
    expect(JSON.parse(env.RUNNER_JOB_TOLERATIONS!)).toEqual([
      { key: 'hangar.dev/sandbox', operator: 'Equal', value: 'gvisor', effect: 'NoSchedule' },
    ]);
    expect(JSON.parse(env.RUNNER_JOB_RESOURCES!)).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '2Gi' },
    });
    expect(env.RUNNER_JOB_PENDING_TIMEOUT_SECONDS).toBe('300');
    expect(env).toMatchObject({
      RUNNER_JOB_CONVERSATION_CLAIMS: 'true',
      RUNNER_JOB_CONVERSATION_STORAGE_CLASS: 'fast-ssd',
      RUNNER_JOB_CONVERSATION_STORAGE_SIZE: '10Gi',
    });
    // Task pods get no secret of the platform's: nothing tells the controller where one is, and
    // the jobs namespace holds none (the model key stays with the agent-runner).
    expect(Object.keys(env).filter((name) => /SECRET|DATABASE|REDIS_URL|API_KEY/.test(name))).toEqual([]);
    expect(byKind(gvisor, 'Secret').filter((secret) => secret.metadata.namespace === 'hangar-tasks')).toEqual(
      [],
    );
    const keySecrets = byKind(gvisor, 'Secret').filter(
      (secret) => secret.metadata.name === `${fullname}-model-keys`,
    );
    expect(keySecrets.map((secret) => secret.metadata.namespace)).toEqual(['hangar']);
  });

  // What the chart passes is what the agent-runner reads: every values file's environment parses
  // with the runner's own settings schema (secrets stand in for their secretKeyRefs).
  it.each(VALUES_FILES)('should give the agent-runner settings it accepts (%s)', async (file) => {
    const objects =
      file === 'kubernetes-gvisor-values.yaml' ? gvisor : await render({ valuesFiles: [valuesFile(file)] });
    const container = containerOf(find(objects, 'Deployment', `${fullname}-agent-runner`));
    const secrets = Object.fromEntries(
      (container.env ?? []).flatMap((variable) =>
        variable.valueFrom?.secretKeyRef
          ? [[variable.name, SECRET_STAND_INS[variable.name] ?? 'secret']]
          : [],
      ),
    );
    const parsed = AgentRunnerConfigSchema.safeParse({ ...plainEnv(objects, container), ...secrets });
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('should give the runners their pool and labels and the orchestrator its routing strategy', async () => {
    const objects = await render({
      valuesFiles: [valuesFile('minimal-values.yaml')],
      set: [
        'agentRunner.pool=gpu',
        'agentRunner.labels={gpu,region=eu}',
        'orchestrator.routingStrategy=capability',
      ],
    });
    const container = containerOf(find(objects, 'Deployment', `${fullname}-agent-runner`));
    const runner = plainEnv(objects, container);
    expect(runner).toMatchObject({ RUNNER_POOL: 'gpu', RUNNER_LABELS: 'gpu,region=eu' });
    const secrets = Object.fromEntries(
      (container.env ?? []).flatMap((variable) =>
        variable.valueFrom?.secretKeyRef
          ? [[variable.name, SECRET_STAND_INS[variable.name] ?? 'secret']]
          : [],
      ),
    );
    const parsed = AgentRunnerConfigSchema.safeParse({ ...runner, ...secrets });
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data).toMatchObject({ RUNNER_POOL: 'gpu', RUNNER_LABELS: ['gpu', 'region=eu'] });
    const orchestrator = plainEnv(
      objects,
      containerOf(find(objects, 'Deployment', `${fullname}-orchestrator`)),
    );
    expect(orchestrator.ROUTING_STRATEGY).toBe('capability');
    // The schema refuses a label the runner would refuse.
    const refused = await helm([
      'template',
      RELEASE,
      CHART_DIR,
      '--namespace',
      NAMESPACE,
      '-f',
      valuesFile('minimal-values.yaml'),
      '--set',
      'agentRunner.labels={GPU!}',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("at '/agentRunner/labels/0': 'GPU!' does not match pattern");
  });

  it('should turn the task NetworkPolicy on by default: DNS and the task API, nothing else', async () => {
    const objects = await render({
      valuesFiles: [valuesFile('minimal-values.yaml')],
      set: ['agentRunner.executor=kubernetes'],
    });
    const policy = find(objects, 'NetworkPolicy', `${fullname}-tasks`);
    expect(policy.metadata.namespace).toBe('hangar-tasks');
    expect(policy.spec).toEqual({
      // Every pod the controller makes, a warm one (no task label yet) as much as a task's.
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/component': 'task',
          'app.kubernetes.io/managed-by': 'hangar-agent-runner',
        },
      },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
        {
          to: [
            {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/name': 'hangar',
                  'app.kubernetes.io/instance': RELEASE,
                  'app.kubernetes.io/component': 'agent-runner',
                },
              },
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'hangar' } },
            },
          ],
          ports: [{ port: 4011, protocol: 'TCP' }],
        },
      ],
    });
    // The in-chart databases run here, and task pods have no way to them.
    expect(
      byKind(objects, 'StatefulSet')
        .map((set) => set.metadata.name)
        .sort(),
    ).toEqual([`${fullname}-postgresql`, `${fullname}-redis`]);
    const off = await render({
      valuesFiles: [valuesFile('minimal-values.yaml')],
      set: ['agentRunner.executor=kubernetes', 'networkPolicy.tasks.enabled=false'],
    });
    expect(byKind(off, 'NetworkPolicy')).toEqual([]);
  });

  it('should let task pods reach the listed git hosts by address and port, besides DNS and the task API', () => {
    const policy = find(gvisor, 'NetworkPolicy', `${fullname}-tasks`);
    const egress = (policy.spec as { egress: { to: Record<string, unknown>[]; ports: unknown[] }[] }).egress;
    expect(egress.slice(2)).toEqual([
      { to: [{ ipBlock: { cidr: '140.82.112.0/20' } }], ports: [{ port: 443, protocol: 'TCP' }] },
      {
        to: [{ ipBlock: { cidr: '192.30.252.0/22' } }],
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 22, protocol: 'TCP' },
        ],
      },
    ]);
    expect(egress).toHaveLength(4);
  });

  it('should make the jobs namespace, labelled for the restricted Pod Security Standard', async () => {
    const namespace = find(gvisor, 'Namespace', 'hangar-tasks');
    expect(namespace.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    // Its own by default (<release namespace>-tasks); one the operator made, or the release's
    // own namespace, is left alone.
    const defaults = await render({
      valuesFiles: [valuesFile('minimal-values.yaml')],
      set: ['agentRunner.executor=kubernetes'],
    });
    expect(byKind(defaults, 'Namespace').map((object) => object.metadata.name)).toEqual(['hangar-tasks']);
    expect(
      plainEnv(defaults, containerOf(find(defaults, 'Deployment', `${fullname}-agent-runner`))),
    ).toMatchObject({
      RUNNER_JOB_NAMESPACE: 'hangar-tasks',
    });
    for (const set of [['agentRunner.jobs.createNamespace=false'], ['agentRunner.jobs.namespace=hangar']]) {
      const objects = await render({
        valuesFiles: [valuesFile('minimal-values.yaml')],
        set: ['agentRunner.executor=kubernetes', ...set],
      });
      expect({ set, namespaces: byKind(objects, 'Namespace') }).toEqual({ set, namespaces: [] });
    }
  });

  describe("the agent-runner pod's security context, per executor", () => {
    async function runnerPod(set: string[]) {
      const objects = await render({ valuesFiles: [valuesFile('minimal-values.yaml')], set });
      const deployment = find(objects, 'Deployment', `${fullname}-agent-runner`);
      const spec = (deployment.spec as { template: { spec: Record<string, unknown> & PodSpec } }).template
        .spec;
      return { spec, container: spec.containers[0]!, env: plainEnv(objects, containerOf(deployment)) };
    }

    it('should give the sandboxing runner user namespaces and a procfs of its own, and nothing else', async () => {
      const { spec, container, env } = await runnerPod([]);
      expect(env.RUNNER_SANDBOX).toBe('bwrap');
      expect(spec.hostUsers).toBe(false);
      expect(spec.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'Unconfined' },
        appArmorProfile: { type: 'Unconfined' },
      });
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        procMount: 'Unmasked',
      });
    });

    it('should warn in the install notes when agents run unsandboxed, and say what bwrap needs', async () => {
      const notes = async (set: string) => {
        const result = await helm([
          'install',
          RELEASE,
          CHART_DIR,
          '--namespace',
          NAMESPACE,
          '--dry-run=client',
          '--values',
          valuesFile('minimal-values.yaml'),
          '--set',
          set,
        ]);
        expect(result.code).toBe(0);
        return result.stdout.slice(result.stdout.indexOf('NOTES:'));
      };
      expect(await notes('agentRunner.sandbox=off')).toContain(
        'WARNING: agentRunner.sandbox=off (RUNNER_SANDBOX=off): agent CLIs run unsandboxed',
      );
      const sandboxed = await notes('agentRunner.sandbox=bwrap');
      expect(sandboxed).not.toContain('WARNING');
      expect(sandboxed).toContain('the nodes need user namespaces (Kubernetes 1.33+');
    });

    it.each([
      ['agentRunner.sandbox=off', 'off'],
      ['agentRunner.executor=kubernetes', undefined],
    ])('should keep the default confinement with %s', async (set, sandbox) => {
      const { spec, container, env } = await runnerPod([set]);
      expect(env.RUNNER_SANDBOX).toBe(sandbox);
      expect(spec.hostUsers).toBeUndefined();
      expect(spec.securityContext).toMatchObject({ seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext).not.toHaveProperty('appArmorProfile');
      expect(container.securityContext).not.toHaveProperty('procMount');
    });
  });
});
