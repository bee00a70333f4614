import type {
  V1EnvVar,
  V1Job,
  V1PersistentVolumeClaim,
  V1ResourceRequirements,
  V1Secret,
  V1Toleration,
  V1Volume,
} from '@kubernetes/client-node';

// Labels every object of a task carries: `kubectl get jobs,pods -l hangar.dev/task=<id>`.
export const TASK_LABEL = 'hangar.dev/task';
export const PROJECT_LABEL = 'hangar.dev/project';
export const ATTEMPT_LABEL = 'hangar.dev/attempt';
export const CONVERSATION_LABEL = 'hangar.dev/conversation';
// A warm Job (docs/performance.md): the profile its pod's CLI was started for, and that profile's
// version (its updatedAt, in milliseconds). It gets the task labels when an attempt is given to it.
export const WARM_PROFILE_LABEL = 'hangar.dev/warm-profile';
export const WARM_VERSION_LABEL = 'hangar.dev/warm-profile-version';
// On a warm Job given an attempt: how long it had run before (its deadline counts from its start).
export const WARM_SECONDS_ANNOTATION = 'hangar.dev/warm-seconds';
export const COMPONENT_LABELS = {
  'app.kubernetes.io/name': 'hangar',
  'app.kubernetes.io/component': 'task',
  'app.kubernetes.io/managed-by': 'hangar-agent-runner',
} as const;

// Where the attempt's token appears inside a task pod: a file from the Job's own Secret, never
// an env var. It is the pod's only credential (task API, model gateway, egress proxy).
export const TASK_TOKEN_DIR = '/var/run/secrets/hangar/task';
export const TASK_TOKEN_KEY = 'token';
export const WORKSPACE_DIR = '/workspace';
export const HOME_DIR = '/home/agent';

// How the controller makes Jobs (RUNNER_JOB_* settings, docs/kubernetes.md).
export interface TaskJobSettings {
  namespace: string;
  image: string;
  // The single-task entrypoint of the runner image.
  command: string[];
  // How the pod reaches the runner's task API, model gateway and egress proxy.
  taskApiUrl: string;
  // The controller's own settings a task pod runs with (limits, log level); never a secret.
  env: V1EnvVar[];
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

// Why a task that must work in an earlier task's workspace (workspaceOf) cannot run in a task
// pod: each pod's workspace is its own emptyDir, gone with the pod. The controller fails such a
// task before making its Job; the pod refuses it too, should it get one.
export function sharedWorkspaceInPod(taskId: string, ownerId: string): string {
  return `task ${taskId} must work in the workspace of task ${ownerId}, but the kubernetes executor gives each task pod a workspace of its own that goes with the pod: shared workspaces need RUNNER_EXECUTOR=process`;
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
  return buildPodJob(
    {
      name: taskJobName(task.id, task.attempt),
      labels: {
        ...COMPONENT_LABELS,
        [TASK_LABEL]: task.id,
        [PROJECT_LABEL]: task.projectId,
        [ATTEMPT_LABEL]: String(task.attempt),
      },
      args: [task.id],
      env: [{ name: 'HANGAR_TASK_ATTEMPT', value: String(task.attempt) }],
      activeDeadlineSeconds: task.timeoutSeconds,
      workspace,
      resources: task.resources,
    },
    settings,
  );
}

export interface WarmJobInput {
  name: string;
  profileId: string;
  // The profile's updatedAt (ISO): a pod of an older version never serves a task.
  profileVersion: string;
  resources?: V1ResourceRequirements | undefined;
  // How long the pod may live unused at most (the controller retires it sooner): its deadline
  // until an attempt is given to it.
  deadlineSeconds: number;
}

// A warm Job's name: any, as its attempt is not known yet (warmJobName).
export function warmJobName(suffix: string): string {
  return `hangar-warm-${suffix.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 63);
}

// A warm Job: the same pod as a task's (one spec, so the same lockdown, NetworkPolicy and
// resources), whose run-task.js starts the profile's CLI and waits for the controller to give it
// an attempt (`--warm`). Labelled with its profile and version; the task labels come with the attempt.
export function buildWarmJob(warm: WarmJobInput, settings: TaskJobSettings): V1Job {
  return buildPodJob(
    {
      name: warm.name,
      labels: {
        ...COMPONENT_LABELS,
        [WARM_PROFILE_LABEL]: warm.profileId,
        [WARM_VERSION_LABEL]: String(Date.parse(warm.profileVersion)),
      },
      args: ['--warm'],
      env: [],
      activeDeadlineSeconds: warm.deadlineSeconds,
      workspace: { name: 'workspace', emptyDir: {} },
      resources: warm.resources,
    },
    settings,
  );
}

interface PodJobInput {
  name: string;
  labels: Record<string, string>;
  // After the single-task entrypoint (settings.command).
  args: string[];
  env: V1EnvVar[];
  activeDeadlineSeconds: number;
  workspace: V1Volume;
  resources?: V1ResourceRequirements | undefined;
}

function buildPodJob(input: PodJobInput, settings: TaskJobSettings): V1Job {
  const { name, labels } = input;
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
      activeDeadlineSeconds: input.activeDeadlineSeconds,
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
              command: [...settings.command, ...input.args],
              env: [
                ...settings.env,
                ...input.env,
                { name: 'RUNNER_TASK_API_URL', value: settings.taskApiUrl },
                // Where run-task.js reads the token (never the token itself in the spec).
                { name: 'HANGAR_TASK_TOKEN_FILE', value: `${TASK_TOKEN_DIR}/${TASK_TOKEN_KEY}` },
                { name: 'WORKSPACE_ROOT', value: WORKSPACE_DIR },
                { name: 'RUNNER_HOME_ROOT', value: HOME_DIR },
              ],
              resources: mergeResources(settings.resources, input.resources),
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
                { name: 'home', mountPath: HOME_DIR },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'task-token', mountPath: TASK_TOKEN_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            input.workspace,
            { name: 'home', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
            // The Job's own Secret (same name), made right after the Job: the kubelet waits for
            // it before the container starts. 0400, readable through fsGroup.
            {
              name: 'task-token',
              secret: {
                secretName: name,
                defaultMode: 0o400,
                items: [{ key: TASK_TOKEN_KEY, path: TASK_TOKEN_KEY }],
              },
            },
          ],
        },
      },
    },
  };
}

// The attempt's token, in a Secret named as its Job and owned by it: it goes when the Job goes
// (TTL, deletion). Made after the Job because the owner reference needs the Job's uid; the pod
// cannot start before it exists. No blockOwnerDeletion: that would need the Jobs' finalizers
// permission, and nothing has to wait for the Secret.
export function buildTaskTokenSecret(job: V1Job, token: string): V1Secret {
  const { name, namespace, uid, labels } = job.metadata ?? {};
  if (!name || !uid) throw new Error('a task token Secret needs its Job as created (name and uid)');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { ...labels },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, blockOwnerDeletion: false }],
    },
    type: 'Opaque',
    immutable: true,
    data: { [TASK_TOKEN_KEY]: Buffer.from(token).toString('base64') },
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
