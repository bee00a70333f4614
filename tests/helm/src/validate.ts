// Validation of rendered objects against the Kubernetes API's OpenAPI schemas (kubernetes-models
// 5.1 models Kubernetes 1.34) and prometheus-operator's CRDs (@kubernetes-models/prometheus-operator).
// Both packages are ESM only, hence the dynamic imports.

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: KubeObject) => Model;
type ModelModule = Record<string, unknown>;

const MODULES: Record<string, () => Promise<ModelModule>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'batch/v1': () => import('kubernetes-models/batch/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'rbac.authorization.k8s.io/v1': () => import('kubernetes-models/rbac.authorization.k8s.io/v1'),
  'monitoring.coreos.com/v1': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
};

export function describeObject(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.name ?? '(no name)'} (${object.apiVersion})`;
}

// Returns one line per object that does not validate, naming it and the schema's complaint;
// an object whose apiVersion/kind has no model counts as invalid too.
export async function validateObjects(objects: KubeObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const load = MODULES[object.apiVersion];
    const module = load ? await load() : undefined;
    const model = module?.[object.kind] as ModelClass | undefined;
    if (!model) {
      problems.push(`${describeObject(object)}: no schema for this apiVersion and kind`);
      continue;
    }
    try {
      new model(object).validate();
    } catch (error) {
      problems.push(`${describeObject(object)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems;
}
