import type {
  V1EnvVar,
  V1Job,
  V1PersistentVolumeClaim,
  V1ResourceRequirements,
  V1Toleration,
  V1Volume,
} from '@kubernetes/client-node';

// Labels every object of a task carries: `kubectl get jobs,pods -l hangar.dev/task=<id>`.
export const TASK_LABEL = 'hangar.dev/task';
export const PROJECT_LABEL = 'hangar.dev/project';
export const ATTEMPT_LABEL = 'hangar.dev/attempt';
export const CONVERSATION_LABEL = 'hangar.dev/conversation';
export const COMPONENT_LABELS = {
  'app.kubernetes.io/name': 'hangar',
  'app.kubernetes.io/component': 'task',
  'app.kubernetes.io/managed-by': 'hangar-agent-runner',
} as const;

// Where the model's API key appears inside a task pod: a file from a Secret, never an env var.
export const MODEL_KEY_DIR = '/var/run/secrets/hangar/model';
export const WORKSPACE_DIR = '/workspace';

// How the controller makes Jobs (RUNNER_JOB_* settings, docs/kubernetes.md).
export interface TaskJobSettings {
  namespace: string;
  image: string;
  // The single-task entrypoint of the runner image.
  command: string[];
  // Secret holding the model API keys (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY), its
  // keys mounted read-only as files under MODEL_KEY_DIR. None: the scripted model.
  apiKeySecret?: string | undefined;
  // The controller's own settings a task pod runs with (Redis prefix, model endpoints, limits).
  env: V1EnvVar[];
  // Where the pod reads its secret settings (DATABASE_URL, REDIS_URL) from: secretKeyRefs.
  secretEnv: Record<string, { name: string; key: string }>;
  resources: V1ResourceRequirements;
  ttlSecondsAfterFinished: number;
  runtimeClassName?: string | undefined;
  nodeSelector?: Record<string, string> | undefined;
  tolerations?: V1Toleration[] | undefined;
  // The object that owns every task Job (the controller's Deployment), so that uninstalling
  // Hangar collects them.
  owner?: { apiVersion: string; kind: string; name: string; uid: string } | undefined;
  // A conversation's turns share a workspace that outlives each Job: a claim of this size (and
  // storage class; none: the cluster's default), which the controller creates for the first turn.
  conversationClaims?: { size: string; storageClassName?: string | undefined } | undefined;
}

export interface TaskJobInput {
  id: string;
  projectId: string;
  attempt: number;
  timeoutSeconds: number;
  conversationId?: string | null | undefined;
  // A profile's own requests and limits, over the defaults.
  resources?: V1ResourceRequirements | undefined;
}

// A Job name is derived from the task id and its attempt, so a controller that restarts finds
// (adopts) the Job it made instead of making a second one. Task ids are lowercase cuids.
export function taskJobName(taskId: string, attempt: number): string {
  const name = `hangar-task-${taskId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${attempt}`;
  if (name.length > 63) throw new Error(`task id ${taskId} makes a Job name longer than 63 characters`);
  return name;
}

export function conversationClaimName(conversationId: string): string {
  return `hangar-conversation-${conversationId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
}

// The Job that runs one task attempt: the runner image's single-task entrypoint, bounded by the
// task's timeout, never retried by Kubernetes (retries are the orchestrator's), locked down.
export function buildTaskJob(task: TaskJobInput, settings: TaskJobSettings): V1Job {
  const labels = {
    ...COMPONENT_LABELS,
    [TASK_LABEL]: task.id,
    [PROJECT_LABEL]: task.projectId,
    [ATTEMPT_LABEL]: String(task.attempt),
  };
  // A conversation's turns share a claim that outlives each Job, when the operator turned them on;
  // otherwise every turn starts from an empty workspace (the agent's session itself is restored
  // from Postgres either way).
  const workspace: V1Volume =
    task.conversationId && settings.conversationClaims
      ? {
          name: 'workspace',
          persistentVolumeClaim: { claimName: conversationClaimName(task.conversationId) },
        }
      : { name: 'workspace', emptyDir: {} };
  const name = taskJobName(task.id, task.attempt);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: settings.namespace,
      labels,
      ...(settings.owner
        ? {
            ownerReferences: [{ ...settings.owner, controller: true, blockOwnerDeletion: false }],
          }
        : {}),
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: task.timeoutSeconds,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(settings.runtimeClassName ? { runtimeClassName: settings.runtimeClassName } : {}),
          ...(settings.nodeSelector ? { nodeSelector: settings.nodeSelector } : {}),
          ...(settings.tolerations ? { tolerations: settings.tolerations } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'agent',
              image: settings.image,
              command: [...settings.command, task.id],
              env: [
                ...settings.env,
                ...Object.entries(settings.secretEnv).map(([variable, ref]) => ({
                  name: variable,
                  valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } },
                })),
                { name: 'HANGAR_TASK_ATTEMPT', value: String(task.attempt) },
                // The run's name in the task record: the controller finds the Job by it.
                { name: 'RUNNER_ID', value: name },
                { name: 'WORKSPACE_ROOT', value: WORKSPACE_DIR },
                { name: 'RUNNER_HOME_ROOT', value: '/home/agent' },
                // Where run-task.js reads the model keys (never the keys themselves in the env).
                ...(settings.apiKeySecret ? [{ name: 'HANGAR_MODEL_KEY_DIR', value: MODEL_KEY_DIR }] : []),
              ],
              resources: mergeResources(settings.resources, task.resources),
              securityContext: {
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [
                { name: 'workspace', mountPath: WORKSPACE_DIR },
                { name: 'home', mountPath: '/home/agent' },
                { name: 'tmp', mountPath: '/tmp' },
                ...(settings.apiKeySecret
                  ? [{ name: 'model-key', mountPath: MODEL_KEY_DIR, readOnly: true }]
                  : []),
              ],
            },
          ],
          volumes: [
            workspace,
            { name: 'home', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
            ...(settings.apiKeySecret
              ? [
                  {
                    name: 'model-key',
                    secret: { secretName: settings.apiKeySecret, defaultMode: 0o400, optional: true },
                  },
                ]
              : []),
          ],
        },
      },
    },
  };
}

// A profile's requests and limits over the defaults, resource by resource: a profile that asks
// for more memory keeps the default CPU request.
function mergeResources(
  defaults: V1ResourceRequirements,
  own: V1ResourceRequirements | undefined,
): V1ResourceRequirements {
  const requests = { ...defaults.requests, ...own?.requests };
  const limits = { ...defaults.limits, ...own?.limits };
  return {
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

// The claim a conversation's turns keep their workspace on (ReadWriteOnce: one turn runs at a time).
export function buildConversationClaim(
  conversationId: string,
  projectId: string,
  settings: TaskJobSettings,
): V1PersistentVolumeClaim {
  const claims = settings.conversationClaims;
  if (!claims) throw new Error('conversation claims are off');
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: conversationClaimName(conversationId),
      namespace: settings.namespace,
      labels: { ...COMPONENT_LABELS, [CONVERSATION_LABEL]: conversationId, [PROJECT_LABEL]: projectId },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: claims.size } },
      ...(claims.storageClassName ? { storageClassName: claims.storageClassName } : {}),
    },
  };
}
