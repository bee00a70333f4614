import { render, RELEASE, valuesFile } from '../src/helm';
import type { KubeObject } from '../src/validate';
import { byKind, containerOf, find, plainEnv, podSpecs, PORTS, VALUES_FILES } from './support';

// Release "hangar" of chart "hangar": objects are named hangar-<component>.
const fullname = RELEASE;

describe('Hangar workloads', () => {
  const rendered: Record<string, KubeObject[]> = {};
  beforeAll(async () => {
    for (const file of VALUES_FILES) rendered[file] = await render({ valuesFiles: [valuesFile(file)] });
  });

  it.each(VALUES_FILES)('should run every container non-root, read-only, without privileges (%s)', (file) => {
    for (const { owner, spec } of podSpecs(rendered[file]!)) {
      expect({ owner, runAsNonRoot: spec.securityContext?.runAsNonRoot }).toEqual({
        owner,
        runAsNonRoot: true,
      });
      // The process executor's runner makes a bubblewrap sandbox per agent, which the runtime's
      // default seccomp profile refuses (executor.spec.ts checks what it gets instead).
      const sandboxing =
        owner === `Deployment/${fullname}-agent-runner` && file !== 'kubernetes-gvisor-values.yaml';
      expect({ owner, seccomp: spec.securityContext?.seccompProfile?.type }).toEqual({
        owner,
        seccomp: sandboxing ? 'Unconfined' : 'RuntimeDefault',
      });
      const tmp = spec.volumes?.find((volume) => volume.name === 'tmp');
      expect({ owner, tmpIsEmptyDir: Boolean(tmp?.emptyDir) }).toEqual({ owner, tmpIsEmptyDir: true });
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const where = `${owner} container ${container.name}`;
        expect({ where, ...container.securityContext }).toMatchObject({
          where,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect({ where, tmp: container.volumeMounts?.some((mount) => mount.mountPath === '/tmp') }).toEqual({
          where,
          tmp: true,
        });
      }
    }
  });

  it('should give a service account token only to the kubernetes executor', () => {
    for (const file of VALUES_FILES) {
      for (const { owner, spec } of podSpecs(rendered[file]!)) {
        const controller =
          file === 'kubernetes-gvisor-values.yaml' && owner === `Deployment/${fullname}-agent-runner`;
        expect({ file, owner, token: spec.automountServiceAccountToken }).toEqual({
          file,
          owner,
          token: controller,
        });
      }
    }
    const runner = find(rendered['kubernetes-gvisor-values.yaml']!, 'Deployment', `${fullname}-agent-runner`);
    expect(
      (runner.spec as { template: { spec: { serviceAccountName: string } } }).template.spec
        .serviceAccountName,
    ).toBe(`${fullname}-agent-runner`);
  });

  it.each(Object.entries(PORTS))(
    'should probe %s on its port, at its health endpoints',
    (component, port) => {
      const objects = rendered['minimal-values.yaml']!;
      const deployment = find(objects, 'Deployment', `${fullname}-${component}`);
      const container = containerOf(deployment);
      expect(container.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: port })]);
      // The dashboard (a placeholder Next.js app) has no /health routes: it is probed at /.
      const [live, ready] = component === 'dashboard' ? ['/', '/'] : ['/health/live', '/health/ready'];
      expect(container.livenessProbe?.httpGet).toEqual({ path: live, port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: ready, port: 'http' });
      expect(container.startupProbe?.httpGet).toEqual({ path: live, port: 'http' });
      const service = find(objects, 'Service', `${fullname}-${component}`);
      expect((service.spec as { ports: unknown[] }).ports).toEqual([
        expect.objectContaining({ port, targetPort: 'http' }),
      ]);
      const env = plainEnv(objects, container);
      // `next start` reads PORT; the services read HOST and <SERVICE>_PORT.
      if (component === 'dashboard') expect(env).toMatchObject({ PORT: '3000' });
      else expect(env).toMatchObject({ HOST: '0.0.0.0' });
    },
  );

  it('should use the hangar-<component> images with the one image tag', () => {
    const objects = rendered['production-values.yaml']!;
    for (const component of Object.keys(PORTS)) {
      const container = containerOf(find(objects, 'Deployment', `${fullname}-${component}`));
      expect(container.image).toBe(`registry.example.com/hangar/hangar-${component}:0.1.0`);
    }
    const defaults = containerOf(find(rendered['minimal-values.yaml']!, 'Deployment', `${fullname}-gateway`));
    expect(defaults.image).toBe('ghcr.io/hangar-dev/hangar-gateway:0.1.0');
  });

  it('should pass the OTLP endpoint, log level and Redis prefix to every service', () => {
    const objects = rendered['production-values.yaml']!;
    for (const component of Object.keys(PORTS).filter((name) => name !== 'dashboard')) {
      const env = plainEnv(objects, containerOf(find(objects, 'Deployment', `${fullname}-${component}`)));
      expect({ component, ...env }).toMatchObject({
        component,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4318',
        LOG_LEVEL: 'info',
        HANGAR_REDIS_PREFIX: 'hangar',
        [`${component.toUpperCase().replaceAll('-', '_')}_PORT`]: String(PORTS[component]),
      });
    }
  });

  it('should read DATABASE_URL and REDIS_URL from the operator-made Secrets in existingSecret mode', () => {
    const objects = rendered['production-values.yaml']!;
    const secretNames = byKind(objects, 'Secret').map((secret) => secret.metadata.name);
    expect(secretNames).toEqual([]);
    const env = containerOf(find(objects, 'Deployment', `${fullname}-orchestrator`)).env ?? [];
    expect(env).toEqual(
      expect.arrayContaining([
        {
          name: 'DATABASE_URL',
          valueFrom: { secretKeyRef: { name: 'hangar-database', key: 'DATABASE_URL' } },
        },
        { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'hangar-redis', key: 'REDIS_URL' } } },
      ]),
    );
    const runnerEnv = containerOf(find(objects, 'Deployment', `${fullname}-agent-runner`)).env ?? [];
    expect(runnerEnv).toEqual(
      expect.arrayContaining([
        {
          name: 'ANTHROPIC_API_KEY',
          valueFrom: {
            secretKeyRef: { name: 'hangar-model-keys', key: 'ANTHROPIC_API_KEY', optional: true },
          },
        },
      ]),
    );
  });

  it.each(VALUES_FILES)(
    'should never render a Secret with an empty value, nor a secret in a ConfigMap (%s)',
    (file) => {
      for (const secret of byKind(rendered[file]!, 'Secret')) {
        const values = { ...(secret.stringData as object), ...(secret.data as object) } as Record<
          string,
          string
        >;
        expect(Object.keys(values).length).toBeGreaterThan(0);
        for (const [key, value] of Object.entries(values))
          expect({ secret: secret.metadata.name, key, empty: !value }).toEqual({
            secret: secret.metadata.name,
            key,
            empty: false,
          });
      }
      for (const configMap of byKind(rendered[file]!, 'ConfigMap')) {
        const keys = Object.keys((configMap.data as object) ?? {});
        expect(keys.filter((key) => /(PASSWORD|TOKEN|API_KEY|DATABASE_URL|REDIS_URL)$/.test(key))).toEqual(
          [],
        );
      }
    },
  );

  it('should generate admin credentials the gateway accepts, and keep URLs given by value in Secrets', () => {
    const admin = find(rendered['minimal-values.yaml']!, 'Secret', `${fullname}-admin`).stringData as Record<
      string,
      string
    >;
    expect(admin.HANGAR_ADMIN_EMAIL).toBe('admin@example.com');
    expect(admin.HANGAR_ADMIN_PASSWORD!.length).toBeGreaterThanOrEqual(12);
    expect(admin.HANGAR_ADMIN_TOKEN).toMatch(/^hgr_[A-Za-z0-9]{40}$/);
    const objects = rendered['external-databases-values.yaml']!;
    expect(find(objects, 'Secret', `${fullname}-database`).stringData).toEqual({
      DATABASE_URL: 'postgresql://hangar:change-me@postgres.internal.example.com:5432/hangar?sslmode=require',
    });
    const gatewayEnv = plainEnv(objects, containerOf(find(objects, 'Deployment', `${fullname}-gateway`)));
    expect(gatewayEnv.SCRIPTED_MODEL_URL).toBe('http://scripted-model.hangar-test:4010');
    // With no model key, no model Secret: the scripted model needs none.
    expect(byKind(objects, 'Secret').map((secret) => secret.metadata.name)).not.toContain(
      `${fullname}-model-keys`,
    );
  });

  it('should point every service at the in-chart PostgreSQL and Redis when they are enabled', () => {
    const objects = rendered['minimal-values.yaml']!;
    const postgres = find(objects, 'Secret', `${fullname}-postgresql`).stringData as Record<string, string>;
    expect(postgres.DATABASE_URL).toBe(
      `postgresql://hangar:${postgres.POSTGRES_PASSWORD}@${fullname}-postgresql:5432/hangar`,
    );
    const redis = find(objects, 'Secret', `${fullname}-redis`).stringData as Record<string, string>;
    expect(redis.REDIS_URL).toBe(`redis://:${redis.REDIS_PASSWORD}@${fullname}-redis:6379`);
    expect(
      byKind(objects, 'StatefulSet')
        .map((set) => set.metadata.name)
        .sort(),
    ).toEqual([`${fullname}-postgresql`, `${fullname}-redis`]);
    const env = containerOf(find(objects, 'Deployment', `${fullname}-gateway`)).env ?? [];
    expect(env).toEqual(
      expect.arrayContaining([
        {
          name: 'DATABASE_URL',
          valueFrom: { secretKeyRef: { name: `${fullname}-postgresql`, key: 'DATABASE_URL' } },
        },
      ]),
    );
  });

  it('should scale with HPAs and keep PDBs in production, with two replicas or more', () => {
    const objects = rendered['production-values.yaml']!;
    const hpas = byKind(objects, 'HorizontalPodAutoscaler');
    expect(hpas.map((hpa) => hpa.metadata.name).sort()).toEqual(
      ['dashboard', 'gateway', 'websocket-pool'].map((name) => `${fullname}-${name}`),
    );
    for (const hpa of hpas)
      expect((hpa.spec as { minReplicas: number }).minReplicas).toBeGreaterThanOrEqual(2);
    expect(byKind(objects, 'PodDisruptionBudget')).toHaveLength(6);
    for (const deployment of byKind(objects, 'Deployment')) {
      const replicas = (deployment.spec as { replicas?: number }).replicas;
      const name = deployment.metadata.name;
      if (replicas !== undefined)
        expect({ name, atLeastTwo: replicas >= 2 }).toEqual({ name, atLeastTwo: true });
    }
    // Left to the HPA: no fixed replica count to fight it.
    expect(
      (find(objects, 'Deployment', `${fullname}-gateway`).spec as { replicas?: number }).replicas,
    ).toBeUndefined();
    expect(byKind(rendered['minimal-values.yaml']!, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('should migrate before install with an external database, and after install with the in-chart one', () => {
    const hook = (file: string) => find(rendered[file]!, 'Job', `${fullname}-migrations`);
    expect(hook('production-values.yaml').metadata.annotations!['helm.sh/hook']).toBe(
      'pre-install,pre-upgrade',
    );
    expect(hook('minimal-values.yaml').metadata.annotations!['helm.sh/hook']).toBe(
      'post-install,pre-upgrade',
    );
    const container = containerOf(hook('production-values.yaml'));
    expect(container.command).toEqual(['node', 'libs/db/dist/migrate-cli.js']);
    expect(container.image).toBe('registry.example.com/hangar/hangar-gateway:0.1.0');
    expect(container.env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'hangar-database', key: 'DATABASE_URL' } } },
    ]);
    // A URL given by value reaches the pre-install hook through a hook Secret made just before it.
    const external = rendered['external-databases-values.yaml']!;
    const hookSecret = find(external, 'Secret', `${fullname}-migrations`);
    expect(hookSecret.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '-10',
    });
    expect(containerOf(hook('external-databases-values.yaml')).env?.[0]?.valueFrom?.secretKeyRef?.name).toBe(
      `${fullname}-migrations`,
    );
  });
});
