import { AgentRunnerConfigSchema } from '@hangar/agent-runner/src/config';
import { render, RELEASE, valuesFile } from '../src/helm';
import type { KubeObject } from '../src/validate';
import { byKind, containerOf, find, plainEnv, VALUES_FILES } from './support';

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
};

describe('the kubernetes executor', () => {
  let gvisor: KubeObject[];
  beforeAll(async () => {
    gvisor = await render({ valuesFiles: [valuesFile('kubernetes-gvisor-values.yaml')] });
  });

  it.each(VALUES_FILES.filter((file) => file !== 'kubernetes-gvisor-values.yaml'))(
    'should render no Role, RoleBinding or NetworkPolicy with the process executor (%s)',
    async (file) => {
      const objects = await render({ valuesFiles: [valuesFile(file)] });
      for (const kind of ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'NetworkPolicy']) {
        expect({ kind, objects: byKind(objects, kind) }).toEqual({ kind, objects: [] });
      }
      const env = plainEnv(objects, containerOf(find(objects, 'Deployment', `${fullname}-agent-runner`)));
      expect(env.RUNNER_EXECUTOR).toBe('process');
      expect(Object.keys(env).filter((name) => name.startsWith('RUNNER_JOB_'))).toEqual([]);
    },
  );

  it('should let the controller do exactly what it needs in the jobs namespace', () => {
    const role = find(gvisor, 'Role', `${fullname}-agent-runner`);
    expect(role.metadata.namespace).toBe('hangar-tasks');
    expect(role.rules as PolicyRule[]).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
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
      RUNNER_MAX_JOBS_PER_PROJECT: '10',
      RUNNER_JOB_RUNTIME_CLASS: 'gvisor',
      RUNNER_JOB_TTL_SECONDS: '1800',
      RUNNER_JOB_API_KEY_SECRET: `${fullname}-model-keys`,
    });
    expect(JSON.parse(env.RUNNER_JOB_NODE_SELECTOR!)).toEqual({ 'hangar.dev/sandbox': 'gvisor' });
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
    // Task pods take DATABASE_URL and REDIS_URL from the Secrets the services read them from.
    const secretEnv = Object.fromEntries(
      (containerOf(find(gvisor, 'Deployment', `${fullname}-agent-runner`)).env ?? []).flatMap((variable) => {
        const ref = variable.valueFrom?.secretKeyRef;
        return ref ? [[variable.name, `${ref.name}/${ref.key}`]] : [];
      }),
    );
    expect(env.RUNNER_JOB_DATABASE_URL_SECRET).toBe(secretEnv['DATABASE_URL']);
    expect(env.RUNNER_JOB_REDIS_URL_SECRET).toBe(secretEnv['REDIS_URL']);
    // The task Jobs read the key from their own namespace.
    const keySecrets = byKind(gvisor, 'Secret').filter(
      (secret) => secret.metadata.name === `${fullname}-model-keys`,
    );
    expect(keySecrets.map((secret) => secret.metadata.namespace).sort()).toEqual(['hangar', 'hangar-tasks']);
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

  it('should let task pods reach only DNS, the gateway, the in-chart databases and the listed CIDRs', () => {
    const policy = find(gvisor, 'NetworkPolicy', `${fullname}-tasks`);
    const spec = policy.spec as {
      podSelector: unknown;
      policyTypes: string[];
      ingress: unknown[];
      egress: { to: Record<string, unknown>[]; ports: { port: number; protocol: string }[] }[];
    };
    expect(policy.metadata.namespace).toBe('hangar-tasks');
    expect(spec.podSelector).toEqual({ matchExpressions: [{ key: 'hangar.dev/task', operator: 'Exists' }] });
    expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(spec.ingress).toEqual([]);
    const summary = spec.egress.map((rule) => ({
      to: rule.to.map((peer) =>
        peer.ipBlock
          ? (peer.ipBlock as { cidr: string }).cidr
          : ((peer.podSelector as { matchLabels: Record<string, string> }).matchLabels['k8s-app'] ??
            (peer.podSelector as { matchLabels: Record<string, string> }).matchLabels[
              'app.kubernetes.io/component'
            ]),
      ),
      ports: rule.ports.map((port) => `${port.port}/${port.protocol}`),
    }));
    expect(summary).toEqual([
      { to: ['kube-dns'], ports: ['53/UDP', '53/TCP'] },
      { to: ['gateway'], ports: ['4005/TCP'] },
      { to: ['postgresql'], ports: ['5432/TCP'] },
      { to: ['redis'], ports: ['6379/TCP'] },
      { to: ['160.79.104.0/23'], ports: ['443/TCP'] },
      { to: ['140.82.112.0/20'], ports: ['443/TCP', '22/TCP'] },
    ]);
    // The jobs namespace is not the release namespace: in-cluster peers are found across it.
    expect(spec.egress[1]!.to[0]!.namespaceSelector).toEqual({
      matchLabels: { 'kubernetes.io/metadata.name': 'hangar' },
    });
  });
});
