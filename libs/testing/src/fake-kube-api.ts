import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  KubeConfig,
  type V1Container,
  type V1Job,
  type V1JobCondition,
  type V1JobStatus,
  type V1Lease,
  type V1ObjectMeta,
  type V1OwnerReference,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1PodCondition,
  type V1PodSpec,
  type V1PodStatus,
  type V1Secret,
} from '@kubernetes/client-node';
// The serializer client-node itself runs on responses: the test controls hand out what a client
// would read (Dates and all), not the wire JSON.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';

// A Kubernetes API server for tests, on node:http: jobs, pods, leases, claims and secrets in
// memory, with the semantics clients depend on (one etcd-like resourceVersion, list + watch with
// history, 410 Expired, bookmarks, optimistic concurrency, deletion propagation and the garbage
// collector's owner references, the Status bodies of errors) and the Job controller's,
// scheduler's and kubelet's parts played by test controls.
//
// Left out on purpose (a test needing one of these needs a real cluster, or a change here):
//   - managedFields; strategic-merge and apply patches (415); deletecollection (405); the /status,
//     /log, /binding… subresources (404); unknown-field warnings; dryRun beyond create;
//   - list paging (limit/continue are ignored: one page) and resourceVersion on lists (always the
//     latest); watching from a version newer than the latest (no "too large" wait); the server's
//     own watch timeout (only timeoutSeconds ends a watch); history is kept until compact();
//   - the Job controller runs one pod per Job and never retries it (backoffLimit > 0, parallelism,
//     podFailurePolicy, Indexed: ignored), enforces no deadline or TTL by itself (exceedDeadline
//     does), ignores a pod deleted outside a Job deletion, and puts no job-tracking finalizer on pods;
//   - no kubelet beyond the scenario controls, no Events, no service account token volume;
//     a bound pod's deletion is graceful in steps, without waiting out the grace period;
//   - the garbage collector knows owners of the kinds stored here only (an owner of another kind
//     counts as present), and waits for no blockOwnerDeletion; secrets have no type-specific
//     validation (service-account tokens, TLS…);
//   - authentication is one bearer token, no RBAC; validation covers what our objects exercise,
//     not the whole schema; every namespace exists unless `namespaces` is given.

// Client-node types describe Dates; on the wire every time is a string (or null).
type Wire<T> = T extends Date
  ? string | null
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;
type WireMeta = Wire<V1ObjectMeta>;
type WireJob = Wire<V1Job> & { metadata: WireMeta };
type WirePod = Wire<V1Pod> & { metadata: WireMeta };
type WirePodStatus = Wire<V1PodStatus>;
type WireJobStatus = Wire<V1JobStatus>;
type WirePodSpec = Wire<V1PodSpec>;
type WireContainer = Wire<V1Container>;
type WirePodCondition = Wire<V1PodCondition>;
type WireJobCondition = Wire<V1JobCondition>;
type WireOwnerReference = Wire<V1OwnerReference>;

interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: WireMeta;
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

type ResourceName = 'jobs' | 'pods' | 'leases' | 'persistentvolumeclaims' | 'secrets';
type WireSecret = Wire<V1Secret> & { metadata: WireMeta; stringData?: Record<string, string> };
// What each resource reads as in the official client.
export interface ClientObjects {
  jobs: V1Job;
  pods: V1Pod;
  leases: V1Lease;
  persistentvolumeclaims: V1PersistentVolumeClaim;
  secrets: V1Secret;
}
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

interface ResourceInfo {
  resource: ResourceName;
  group: string;
  version: string;
  kind: string;
  prefix: string;
  // The generic registry's switches, as each type's strategy sets them.
  allowCreateOnUpdate: boolean;
  allowUnconditionalUpdate: boolean;
  returnDeletedObject: boolean;
  defaultPropagation: PropagationPolicy;
  // MicroTime fields must carry exactly six fractional digits (metav1.MicroTime's parser).
  microTimeFields: string[][];
}

const RESOURCES: Record<ResourceName, ResourceInfo> = {
  jobs: {
    resource: 'jobs',
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    prefix: '/apis/batch/v1',
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    returnDeletedObject: false,
    // batch/v1 keeps the legacy default: deleting a Job orphans its pods unless told otherwise.
    defaultPropagation: 'Orphan',
    microTimeFields: [],
  },
  pods: {
    resource: 'pods',
    group: '',
    version: 'v1',
    kind: 'Pod',
    prefix: '/api/v1',
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    returnDeletedObject: true,
    defaultPropagation: 'Background',
    microTimeFields: [],
  },
  leases: {
    resource: 'leases',
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    prefix: '/apis/coordination.k8s.io/v1',
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: false,
    returnDeletedObject: false,
    defaultPropagation: 'Background',
    microTimeFields: [
      ['spec', 'acquireTime'],
      ['spec', 'renewTime'],
    ],
  },
  persistentvolumeclaims: {
    resource: 'persistentvolumeclaims',
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    prefix: '/api/v1',
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    returnDeletedObject: true,
    defaultPropagation: 'Background',
    microTimeFields: [],
  },
  secrets: {
    resource: 'secrets',
    group: '',
    version: 'v1',
    kind: 'Secret',
    prefix: '/api/v1',
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    // The secret registry answers a deletion with a Status, like the Job's.
    returnDeletedObject: false,
    defaultPropagation: 'Background',
    microTimeFields: [],
  },
};

const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';
const NODE_NAME = 'fake-node';
const DELETE_WARNING =
  '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"';
// k8s.io/apimachinery/pkg/util/rand's alphabet, used for generateName and the Job's pod names.
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const RFC3339_MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
}

export interface FakeKubeApiOptions {
  token?: string;
  bookmarkIntervalMs?: number;
  // Namespaces that exist; by default every namespace does.
  namespaces?: string[];
}

// The part of the kubelet a test plays when it runs a pod's container itself.
export interface FakeKubelet {
  // SIGTERM the container of this pod (being deleted) and resolve with how it exited.
  stop(pod: V1Pod): Promise<TerminationOptions>;
}

export interface TerminationOptions {
  exitCode: number;
  reason: string;
  message?: string;
}

interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code?: number;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: StatusBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

interface FieldError {
  type: 'Required' | 'Invalid' | 'NotSupported' | 'NotFound' | 'Duplicate' | 'Forbidden' | 'TooLong';
  field: string;
  value?: unknown;
  detail?: string;
  supported?: string[];
}

interface Requirement {
  key: string;
  op: 'exists' | 'notExists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

interface HistoryEvent {
  rv: number;
  info: ResourceInfo;
  type: EventType;
  object: KubeObject;
  prev: KubeObject | undefined;
}

interface Watcher {
  info: ResourceInfo;
  namespace: string | undefined;
  labels: Requirement[];
  fields: Requirement[];
  res: ServerResponse;
  bookmarks: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  defaulted: boolean;
}

// ---------------------------------------------------------------------------------------------
// Status bodies, as the apiserver's errors package words them

function apiVersionOf(info: ResourceInfo) {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

function qualifiedResource(info: ResourceInfo) {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

function failure(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

// StatusDetails.kind holds the resource (not the kind) for these errors, as the apiserver does.
function resourceDetails(info: ResourceInfo, name: string, extra: Record<string, unknown> = {}) {
  return { name, ...(info.group ? { group: info.group } : {}), kind: info.resource, ...extra };
}

function notFound(info: ResourceInfo, name: string) {
  return new ApiError(
    404,
    failure(404, 'NotFound', `${qualifiedResource(info)} "${name}" not found`, resourceDetails(info, name)),
  );
}

function conflict(info: ResourceInfo, name: string, why: string) {
  return new ApiError(
    409,
    failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": ${why}`,
      resourceDetails(info, name),
    ),
  );
}

const OPTIMISTIC_LOCK =
  'the object has been modified; please apply your changes to the latest version and try again';

function badRequest(message: string) {
  return new ApiError(400, failure(400, 'BadRequest', message));
}

function internalError(message: string) {
  return new ApiError(
    500,
    failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  );
}

const FIELD_REASONS: Record<FieldError['type'], string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  NotFound: 'FieldValueNotFound',
  Duplicate: 'FieldValueDuplicate',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
};

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function fieldErrorMessage(error: FieldError): string {
  switch (error.type) {
    case 'Required':
      return `Required value${error.detail ? `: ${error.detail}` : ''}`;
    case 'Invalid':
      return `Invalid value: ${formatValue(error.value)}${error.detail ? `: ${error.detail}` : ''}`;
    case 'NotSupported':
      return `Unsupported value: ${formatValue(error.value)}${
        error.supported
          ? `: supported values: ${error.supported.map((value) => `"${value}"`).join(', ')}`
          : ''
      }`;
    case 'NotFound':
      return `Not found: ${formatValue(error.value)}`;
    case 'Duplicate':
      return `Duplicate value: ${formatValue(error.value)}`;
    case 'Forbidden':
      return `Forbidden${error.detail ? `: ${error.detail}` : ''}`;
    case 'TooLong':
      return `Too long: ${error.detail ?? ''}`;
  }
}

// `kind` here is "Job" or, for the update preconditions, the resource: the apiserver mixes both.
function invalid(info: ResourceInfo, name: string, errors: FieldError[], kind = info.kind) {
  const qualifiedKind = info.group ? `${kind}.${info.group}` : kind;
  const lines = errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
  const summary = lines.length === 1 ? lines[0]! : `[${lines.join(', ')}]`;
  return new ApiError(
    422,
    failure(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
      name,
      ...(info.group ? { group: info.group } : {}),
      kind,
      causes: errors.map((error) => ({
        reason: FIELD_REASONS[error.type],
        message: fieldErrorMessage(error),
        field: error.field,
      })),
    }),
  );
}

// A body the decoder rejects (bad quantity, bad MicroTime): 400, worded as the apiserver does.
function undecodable(info: ResourceInfo, why: string) {
  return badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${why}`);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function clone<T>(value: T): T {
  return structuredClone(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Keys sorted, so that two objects compare equal whatever order their fields were written in.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function same(a: unknown, b: unknown) {
  return canonical(a) === canonical(b);
}

// metav1.Time: RFC 3339 to the second.
function now(offsetSeconds = 0): string {
  return new Date(Date.now() + offsetSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomSuffix(length = 5) {
  const bytes = randomBytes(length);
  return [...bytes].map((byte) => NAME_ALPHABET[byte % NAME_ALPHABET.length]).join('');
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function keyOf(namespace: string, name: string) {
  return `${namespace}/${name}`;
}

function getPath(object: unknown, path: string[]): unknown {
  let current = object;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

// Status times written through the test controls come from Dates (with milliseconds): the
// server stores metav1.Time to the second.
const TIME_KEYS = new Set([
  'lastProbeTime',
  'lastTransitionTime',
  'startTime',
  'completionTime',
  'startedAt',
  'finishedAt',
  'lastUpdateTime',
]);
function secondsPrecision<T>(value: T): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      out[key] =
        TIME_KEYS.has(key) && typeof child === 'string'
          ? child.replace(/\.\d+(Z|[+-]\d\d:\d\d)$/, '$1')
          : walk(child);
    }
    return out;
  };
  return walk(JSON.parse(JSON.stringify(value)) as unknown) as T;
}

// ---------------------------------------------------------------------------------------------
// Selectors

function splitTopLevel(raw: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of raw) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

function parseLabelSelector(raw: string | undefined): Requirement[] {
  if (!raw) return [];
  return splitTopLevel(raw).map((part) => {
    let match = /^!\s*([^\s=!<>(),]+)$/.exec(part);
    if (match) return { key: match[1]!, op: 'notExists', values: [] };
    match = /^([^\s=!<>(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (match) {
      const values = match[3]!.split(',').map((value) => value.trim());
      return { key: match[1]!, op: match[2] as 'in' | 'notin', values };
    }
    match = /^([^\s=!<>(),]+)\s*(==|=|!=)\s*([^\s=!<>(),]*)$/.exec(part);
    if (match) return { key: match[1]!, op: match[2] === '!=' ? '!=' : '=', values: [match[3]!] };
    match = /^([^\s=!<>(),]+)\s*([<>])\s*(\d+)$/.exec(part);
    if (match) return { key: match[1]!, op: match[2] === '>' ? 'gt' : 'lt', values: [match[3]!] };
    match = /^([^\s=!<>(),]+)$/.exec(part);
    if (match) return { key: match[1]!, op: 'exists', values: [] };
    throw badRequest(`unable to parse requirement: ${part}`);
  });
}

function matchesRequirements(values: Record<string, string | undefined>, requirements: Requirement[]) {
  return requirements.every(({ key, op, values: wanted }) => {
    const value = values[key];
    switch (op) {
      case 'exists':
        return value !== undefined;
      case 'notExists':
        return value === undefined;
      case '=':
        return value === wanted[0];
      case '!=':
        return value !== wanted[0];
      case 'in':
        return value !== undefined && wanted.includes(value);
      case 'notin':
        return value === undefined || !wanted.includes(value);
      case 'gt':
        return value !== undefined && Number(value) > Number(wanted[0]);
      case 'lt':
        return value !== undefined && Number(value) < Number(wanted[0]);
    }
  });
}

// The field selectors each type registers (metadata.* for all, a few more for pods and jobs).
const FIELD_LABELS: Record<ResourceName, Record<string, string[]>> = {
  jobs: { 'status.successful': ['status', 'succeeded'] },
  pods: {
    'spec.nodeName': ['spec', 'nodeName'],
    'spec.restartPolicy': ['spec', 'restartPolicy'],
    'spec.schedulerName': ['spec', 'schedulerName'],
    'spec.serviceAccountName': ['spec', 'serviceAccountName'],
    'status.phase': ['status', 'phase'],
    'status.podIP': ['status', 'podIP'],
    'status.nominatedNodeName': ['status', 'nominatedNodeName'],
  },
  leases: {},
  persistentvolumeclaims: {},
  secrets: { type: ['type'] },
};

function parseFieldSelector(info: ResourceInfo, raw: string | undefined): Requirement[] {
  if (!raw) return [];
  return splitTopLevel(raw).map((part) => {
    const match = /^([^\s=!]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!match) throw badRequest(`invalid selector: '${raw}'; can't understand '${part}'`);
    const key = match[1]!;
    if (key !== 'metadata.name' && key !== 'metadata.namespace' && !FIELD_LABELS[info.resource][key]) {
      throw badRequest(`field label not supported: ${key}`);
    }
    return { key, op: match[2] === '!=' ? '!=' : '=', values: [match[3]!] };
  });
}

function fieldValues(info: ResourceInfo, object: KubeObject): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {
    'metadata.name': object.metadata.name,
    'metadata.namespace': object.metadata.namespace,
  };
  for (const [label, path] of Object.entries(FIELD_LABELS[info.resource])) {
    const value = getPath(object, path);
    values[label] =
      value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Quantities (only as far as validation needs them)

const QUANTITY_SUFFIXES: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

function parseQuantity(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return undefined;
  const match = QUANTITY.exec(raw);
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[2]!;
  if (Number.isNaN(number)) return undefined;
  if (suffix in QUANTITY_SUFFIXES) return number * QUANTITY_SUFFIXES[suffix]!;
  const exponent = /^[eE]([-+]?\d+)$/.exec(suffix);
  return exponent ? number * 10 ** Number(exponent[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Defaulting (SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_Job) and admission

function defaultPullPolicy(image: string | undefined) {
  if (!image) return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  const tag = colon >= 0 ? last.slice(colon + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: WireContainer) {
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  container.imagePullPolicy ??= defaultPullPolicy(container.image);
  container.resources ??= {};
  for (const port of container.ports ?? []) port.protocol ??= 'TCP';
}

function defaultPodSpec(spec: WirePodSpec) {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
    defaultContainer(container);
  for (const volume of spec.volumes ?? []) {
    if (volume.secret) volume.secret.defaultMode ??= 420;
    if (volume.configMap) volume.configMap.defaultMode ??= 420;
    if (volume.projected) volume.projected.defaultMode ??= 420;
    if (volume.downwardAPI) volume.downwardAPI.defaultMode ??= 420;
  }
}

// What a Pod (not a template) gains on create: SetDefaults_Pod and the default admission plugins
// (ServiceAccount, Priority, DefaultTolerationSeconds).
function admitPod(spec: WirePodSpec) {
  defaultPodSpec(spec);
  for (const container of spec.containers ?? []) {
    const limits = container.resources?.limits;
    if (!limits) continue;
    container.resources!.requests = { ...limits, ...container.resources!.requests };
  }
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations = spec.tolerations ?? [];
  for (const taint of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((toleration) => toleration.key === taint)) {
      tolerations.push({ key: taint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  spec.tolerations = tolerations;
}

function qosClass(spec: WirePodSpec): string {
  const containers = spec.containers ?? [];
  const any = containers.some(
    (container) =>
      Object.keys(container.resources?.requests ?? {}).length > 0 ||
      Object.keys(container.resources?.limits ?? {}).length > 0,
  );
  if (!any) return 'BestEffort';
  const guaranteed = containers.every((container) => {
    const limits = container.resources?.limits ?? {};
    const requests = container.resources?.requests ?? {};
    return ['cpu', 'memory'].every(
      (resource) =>
        limits[resource] !== undefined &&
        (requests[resource] === undefined ||
          parseQuantity(requests[resource]) === parseQuantity(limits[resource])),
    );
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

// SetDefaults_Secret and the v1 conversion: stringData is written over data (as base64), and
// is never stored.
function defaultSecret(secret: WireSecret) {
  secret.type ??= 'Opaque';
  if (secret.stringData) {
    secret.data = { ...secret.data };
    for (const [key, value] of Object.entries(secret.stringData))
      secret.data[key] = Buffer.from(value, 'utf8').toString('base64');
    delete secret.stringData;
  }
}

function defaultJob(job: WireJob) {
  const spec = (job.spec ??= { template: {} });
  spec.template ??= {};
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  const templateLabels = spec.template.metadata?.labels;
  if (templateLabels && Object.keys(job.metadata.labels ?? {}).length === 0)
    job.metadata.labels = { ...templateLabels };
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.template.spec ??= { containers: [] };
  defaultPodSpec(spec.template.spec);
}

// The Job strategy's PrepareForCreate: the selector and the labels it selects are generated.
function generateSelector(job: WireJob) {
  const spec = job.spec!;
  if (spec.manualSelector) return;
  const uid = job.metadata.uid!;
  const name = job.metadata.name ?? '';
  const metadata = (spec.template.metadata ??= {});
  const labels = (metadata.labels ??= {});
  labels[CONTROLLER_UID_LABEL] ??= uid;
  labels[JOB_NAME_LABEL] ??= name;
  labels[LEGACY_CONTROLLER_UID_LABEL] ??= uid;
  labels[LEGACY_JOB_NAME_LABEL] ??= name;
  spec.selector ??= {};
  spec.selector.matchLabels = {
    ...spec.selector.matchLabels,
    [CONTROLLER_UID_LABEL]: spec.selector.matchLabels?.[CONTROLLER_UID_LABEL] ?? uid,
  };
}

// ---------------------------------------------------------------------------------------------
// Validation (the parts of ValidateJob / ValidatePod / ValidateLease our objects exercise)

const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

function validateName(name: string | undefined): FieldError[] {
  if (!name)
    return [{ type: 'Required', field: 'metadata.name', detail: 'name or generateName is required' }];
  const errors: FieldError[] = [];
  if (name.length > 253)
    errors.push({
      type: 'Invalid',
      field: 'metadata.name',
      value: name,
      detail: 'must be no more than 253 characters',
    });
  if (!DNS1123_SUBDOMAIN.test(name))
    errors.push({ type: 'Invalid', field: 'metadata.name', value: name, detail: DNS1123_SUBDOMAIN_MESSAGE });
  return errors;
}

function validateLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const value of Object.values(labels ?? {})) {
    if (value.length > 63)
      errors.push({ type: 'Invalid', field, value, detail: 'must be no more than 63 characters' });
  }
  return errors;
}

function nonNegative(value: number | undefined, field: string): FieldError[] {
  return value !== undefined && value < 0
    ? [{ type: 'Invalid', field, value, detail: 'must be greater than or equal to 0' }]
    : [];
}

function validatePodSpec(
  spec: WirePodSpec | undefined,
  path: string,
  restartPolicies: string[],
): FieldError[] {
  const errors: FieldError[] = [];
  const containers = spec?.containers ?? [];
  if (containers.length === 0) errors.push({ type: 'Required', field: `${path}.containers` });
  const volumes = new Set<string>();
  (spec?.volumes ?? []).forEach((volume, index) => {
    const field = `${path}.volumes[${index}].name`;
    if (!volume.name) errors.push({ type: 'Required', field });
    else if (!DNS1123_LABEL.test(volume.name))
      errors.push({ type: 'Invalid', field, value: volume.name, detail: DNS1123_LABEL_MESSAGE });
    else if (volumes.has(volume.name)) errors.push({ type: 'Duplicate', field, value: volume.name });
    volumes.add(volume.name);
  });
  const names = new Set<string>();
  containers.forEach((container, index) => {
    const at = `${path}.containers[${index}]`;
    if (!container.name) errors.push({ type: 'Required', field: `${at}.name` });
    else if (!DNS1123_LABEL.test(container.name)) {
      errors.push({
        type: 'Invalid',
        field: `${at}.name`,
        value: container.name,
        detail: DNS1123_LABEL_MESSAGE,
      });
    } else if (names.has(container.name))
      errors.push({ type: 'Duplicate', field: `${at}.name`, value: container.name });
    names.add(container.name ?? '');
    if (!container.image) errors.push({ type: 'Required', field: `${at}.image` });
    (container.volumeMounts ?? []).forEach((mount, mountIndex) => {
      const mountAt = `${at}.volumeMounts[${mountIndex}]`;
      if (!mount.name) errors.push({ type: 'Required', field: `${mountAt}.name` });
      else if (!volumes.has(mount.name))
        errors.push({ type: 'NotFound', field: `${mountAt}.name`, value: mount.name });
      if (!mount.mountPath) errors.push({ type: 'Required', field: `${mountAt}.mountPath` });
    });
    (container.env ?? []).forEach((variable, envIndex) => {
      if (!variable.name) errors.push({ type: 'Required', field: `${at}.env[${envIndex}].name` });
    });
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    for (const [resource, request] of Object.entries(requests)) {
      const limit = limits[resource];
      if (limit === undefined) continue;
      if (parseQuantity(request)! > parseQuantity(limit)!) {
        errors.push({
          type: 'Invalid',
          field: `${at}.resources.requests`,
          value: String(request),
          detail: `must be less than or equal to ${resource} limit of ${String(limit)}`,
        });
      }
    }
  });
  const restartPolicy = spec?.restartPolicy ?? 'Always';
  if (!restartPolicies.includes(restartPolicy)) {
    errors.push({
      type: 'NotSupported',
      field: `${path}.restartPolicy`,
      value: restartPolicy,
      supported: restartPolicies,
    });
  }
  if (spec?.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds < 1) {
    errors.push({
      type: 'Invalid',
      field: `${path}.activeDeadlineSeconds`,
      value: spec.activeDeadlineSeconds,
      detail: 'must be between 1 and 2147483647, inclusive',
    });
  }
  return errors;
}

function validateJob(job: WireJob): FieldError[] {
  const spec = job.spec!;
  const errors = [
    ...validateName(job.metadata.name),
    ...validateLabels(job.metadata.labels, 'metadata.labels'),
    ...nonNegative(spec.parallelism, 'spec.parallelism'),
    ...nonNegative(spec.completions, 'spec.completions'),
    ...nonNegative(spec.activeDeadlineSeconds, 'spec.activeDeadlineSeconds'),
    ...nonNegative(spec.backoffLimit, 'spec.backoffLimit'),
    ...nonNegative(spec.ttlSecondsAfterFinished, 'spec.ttlSecondsAfterFinished'),
  ];
  if (!spec.selector) errors.push({ type: 'Required', field: 'spec.selector' });
  // The Job's name goes into its pods' labels, whose values are at most 63 characters.
  errors.push(...validateLabels(spec.template.metadata?.labels, 'spec.template.labels'));
  const labels = spec.template.metadata?.labels ?? {};
  const selected = Object.entries(spec.selector?.matchLabels ?? {}).every(
    ([key, value]) => labels[key] === value,
  );
  if (!selected) {
    errors.push({
      type: 'Invalid',
      field: 'spec.template.metadata.labels',
      value: labels,
      detail: '`selector` does not match template `labels`',
    });
  }
  errors.push(...validatePodSpec(spec.template.spec, 'spec.template.spec', ['OnFailure', 'Never']));
  return errors;
}

function validatePod(pod: WirePod): FieldError[] {
  return [
    ...validateName(pod.metadata.name),
    ...validateLabels(pod.metadata.labels, 'metadata.labels'),
    ...validatePodSpec(pod.spec, 'spec', ['Always', 'OnFailure', 'Never']),
  ];
}

// What the API validates of a claim's spec that a controller sets: access modes and a storage request.
function validateClaim(claim: Wire<V1PersistentVolumeClaim> & { metadata: WireMeta }): FieldError[] {
  const errors: FieldError[] = [];
  const modes = claim.spec?.accessModes ?? [];
  if (modes.length === 0)
    errors.push({
      type: 'Required',
      field: 'spec.accessModes',
      detail: 'at least 1 access mode is required',
    });
  for (const [index, mode] of modes.entries()) {
    if (!['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'].includes(mode))
      errors.push({
        type: 'NotSupported',
        field: `spec.accessModes[${index}]`,
        value: mode,
        detail: 'supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      });
  }
  if (claim.spec?.resources?.requests?.['storage'] === undefined)
    errors.push({ type: 'Required', field: 'spec.resources[storage]', detail: '' });
  return errors;
}

function validateLease(lease: Wire<V1Lease> & { metadata: WireMeta }): FieldError[] {
  const errors = validateName(lease.metadata.name);
  const duration = lease.spec?.leaseDurationSeconds;
  if (duration !== undefined && duration <= 0) {
    errors.push({
      type: 'Invalid',
      field: 'spec.leaseDurationSeconds',
      value: duration,
      detail: 'must be greater than 0',
    });
  }
  errors.push(...nonNegative(lease.spec?.leaseTransitions, 'spec.leaseTransitions'));
  return errors;
}

// ValidateOwnerReferences: every reference names its owner fully; one controller at most.
function validateOwnerReferences(meta: WireMeta): FieldError[] {
  const errors: FieldError[] = [];
  const field = 'metadata.ownerReferences';
  const references = meta.ownerReferences ?? [];
  for (const reference of references) {
    const version = (reference.apiVersion ?? '').split('/').pop() ?? '';
    if (!version)
      errors.push({
        type: 'Invalid',
        field: `${field}.apiVersion`,
        value: reference.apiVersion ?? '',
        detail: 'version must not be empty',
      });
    for (const key of ['kind', 'name', 'uid'] as const) {
      if (!reference[key])
        errors.push({
          type: 'Invalid',
          field: `${field}.${key}`,
          value: reference[key] ?? '',
          detail: 'must not be empty',
        });
    }
  }
  const controllers = references.filter((reference) => reference.controller === true);
  if (controllers.length > 1) {
    errors.push({
      type: 'Invalid',
      field,
      value: references,
      detail: `Only one reference can have Controller set to true. Found "true" in references for ${controllers
        .map((reference) => `${reference.kind}/${reference.name}`)
        .join(' and ')}`,
    });
  }
  return errors;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const MAX_SECRET_BYTES = 1024 * 1024;

// ValidateSecret for an Opaque secret: its keys and its total size.
function validateSecret(secret: WireSecret): FieldError[] {
  const errors = validateName(secret.metadata.name);
  let size = 0;
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    if (!CONFIG_KEY.test(key) || key.length > 253)
      errors.push({
        type: 'Invalid',
        field: `data[${key}]`,
        value: key,
        detail:
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      });
    size += Buffer.from(value, 'base64').length;
  }
  if (size > MAX_SECRET_BYTES)
    errors.push({ type: 'TooLong', field: 'data', detail: `may not be more than ${MAX_SECRET_BYTES} bytes` });
  return errors;
}

// ValidateSecretUpdate: the type stays; an immutable secret's data and immutability stay.
function validateSecretUpdate(next: WireSecret, old: WireSecret): FieldError[] {
  const errors: FieldError[] = [];
  if (next.type !== old.type)
    errors.push({ type: 'Invalid', field: 'type', value: next.type, detail: 'field is immutable' });
  if (old.immutable) {
    if (!next.immutable)
      errors.push({
        type: 'Forbidden',
        field: 'immutable',
        detail: 'field is immutable when `immutable` is set',
      });
    if (!same(next.data ?? {}, old.data ?? {}))
      errors.push({ type: 'Forbidden', field: 'data', detail: 'field is immutable when `immutable` is set' });
  }
  return errors;
}

function validateObject(info: ResourceInfo, object: KubeObject): FieldError[] {
  return [...validateKind(info, object), ...validateOwnerReferences(object.metadata)];
}

function validateKind(info: ResourceInfo, object: KubeObject): FieldError[] {
  switch (info.resource) {
    case 'jobs':
      return validateJob(object as WireJob);
    case 'pods':
      return validatePod(object as WirePod);
    case 'leases':
      return validateLease(object as Wire<V1Lease> & { metadata: WireMeta });
    case 'persistentvolumeclaims':
      return validateClaim(object as Wire<V1PersistentVolumeClaim> & { metadata: WireMeta });
    case 'secrets':
      return validateSecret(object);
  }
}

// Where encoding/json stops on a []byte field that is not standard base64 (padded).
function base64Error(value: unknown): number | undefined {
  if (typeof value !== 'string') return 0;
  const bad = /[^A-Za-z0-9+/=]/.exec(value);
  if (bad) return bad.index;
  const padding = value.indexOf('=');
  if (padding >= 0 && !/^={1,2}$/.test(value.slice(padding))) return padding;
  if (value.length % 4 !== 0) return value.length - (value.length % 4);
  return undefined;
}

// What the decoder would refuse before any validation: malformed quantities, MicroTimes and
// secret data that is not base64.
function checkDecodable(info: ResourceInfo, object: KubeObject) {
  if (info.resource === 'secrets') {
    for (const value of Object.values((object as WireSecret).data ?? {})) {
      const at = base64Error(value);
      if (at !== undefined) throw undecodable(info, `illegal base64 data at input byte ${at}`);
    }
  }
  for (const path of info.microTimeFields) {
    const value = getPath(object, path);
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !RFC3339_MICRO.test(value)) {
      const shown = typeof value === 'string' ? value : JSON.stringify(value);
      throw undecodable(
        info,
        `parsing time "${shown}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "${shown.slice(19)}" as ".000000"`,
      );
    }
  }
  const specs: (WirePodSpec | undefined)[] =
    info.resource === 'jobs'
      ? [(object as WireJob).spec?.template?.spec]
      : info.resource === 'pods'
        ? [(object as WirePod).spec]
        : [];
  for (const spec of specs) {
    for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      for (const quantity of [
        ...Object.values(container.resources?.requests ?? {}),
        ...Object.values(container.resources?.limits ?? {}),
      ]) {
        if (parseQuantity(quantity) === undefined) {
          throw undecodable(
            info,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
          );
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Patches

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw badRequest(
      `the server rejected our request due to an error in our request: invalid JSON pointer ${pointer}`,
    );
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

interface JsonPatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function applyJsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root = clone(document);
  const parentOf = (tokens: string[]) => {
    let node: unknown = root;
    for (const token of tokens.slice(0, -1)) {
      node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
      if (node === undefined)
        throw new ApiError(422, failure(422, 'Invalid', `doc is missing path: "/${tokens.join('/')}"`));
    }
    return node;
  };
  const read = (pointer: string): unknown => {
    let node: unknown = root;
    for (const token of decodePointer(pointer)) {
      node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    }
    if (node === undefined)
      throw new ApiError(422, failure(422, 'Invalid', `doc is missing path: "${pointer}"`));
    return clone(node);
  };
  const remove = (pointer: string) => {
    const tokens = decodePointer(pointer);
    const parent = parentOf(tokens);
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (isObject(parent) && last in parent) delete parent[last];
    else throw new ApiError(422, failure(422, 'Invalid', `doc is missing path: "${pointer}"`));
  };
  const add = (pointer: string, value: unknown, replace: boolean) => {
    const tokens = decodePointer(pointer);
    if (tokens.length === 0) {
      root = clone(value);
      return;
    }
    const parent = parentOf(tokens);
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (replace) parent[index] = clone(value);
      else parent.splice(index, 0, clone(value));
    } else if (isObject(parent)) {
      if (replace && !(last in parent))
        throw new ApiError(422, failure(422, 'Invalid', `doc is missing key: ${pointer}`));
      parent[last] = clone(value);
    } else throw new ApiError(422, failure(422, 'Invalid', `doc is missing path: "${pointer}"`));
  };
  for (const raw of operations as JsonPatchOperation[]) {
    switch (raw.op) {
      case 'add':
        add(raw.path, raw.value, false);
        break;
      case 'replace':
        add(raw.path, raw.value, true);
        break;
      case 'remove':
        remove(raw.path);
        break;
      case 'copy':
        add(raw.path, read(raw.from ?? ''), false);
        break;
      case 'move': {
        const value = read(raw.from ?? '');
        remove(raw.from ?? '');
        add(raw.path, value, false);
        break;
      }
      case 'test':
        if (!same(read(raw.path), raw.value)) {
          throw new ApiError(422, failure(422, 'Invalid', `testing value ${raw.path} failed: test failed`));
        }
        break;
      default:
        throw badRequest(`Unexpected kind: ${raw.op}`);
    }
  }
  return root;
}

function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startFakeKubeApi(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const api = new FakeKubeApi(options);
  await api.listen();
  return api;
}

export class FakeKubeApi {
  url = '';
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private rv = 1000;
  // Events up to here are forgotten ("compacted"): a watch from an older version gets 410.
  private compactedRv = 1000;
  private readonly history: HistoryEvent[] = [];
  private readonly store: Record<ResourceName, Map<string, KubeObject>> = {
    jobs: new Map(),
    pods: new Map(),
    leases: new Map(),
    persistentvolumeclaims: new Map(),
    secrets: new Map(),
  };
  private readonly watchers = new Set<Watcher>();
  // Test code waiting for an object to exist (whenExists).
  private readonly existenceWaiters = new Set<{
    info: ResourceInfo;
    key: string;
    resolve: (object: KubeObject) => void;
  }>();
  private readonly injected: { method: string; path: RegExp; status: number; reason: string | undefined }[] =
    [];
  private readonly jobListeners = new Set<(job: V1Job) => void>();
  private kubelet: FakeKubelet | undefined;
  private readonly background = new Set<Promise<void>>();
  private readonly bookmarkTimer: NodeJS.Timeout;
  private podIps = 10;

  constructor(private readonly options: FakeKubeApiOptions = {}) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.bookmarkTimer = setInterval(() => this.bookmark(), options.bookmarkIntervalMs ?? 1000);
    this.bookmarkTimer.unref();
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', ...(this.options.token ? { token: this.options.token } : {}) }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async close(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    for (const watcher of this.watchers) this.endWatch(watcher);
    await this.settled();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------
  // Test controls

  resourceVersion(): string {
    return String(this.rv);
  }

  jobs(namespace?: string): V1Job[] {
    return this.objects(RESOURCES.jobs, namespace).map((job) => toClient<V1Job>(RESOURCES.jobs, job));
  }

  pods(namespace?: string): V1Pod[] {
    return this.objects(RESOURCES.pods, namespace).map((pod) => toClient<V1Pod>(RESOURCES.pods, pod));
  }

  leases(namespace?: string): V1Lease[] {
    return this.objects(RESOURCES.leases, namespace).map((lease) =>
      toClient<V1Lease>(RESOURCES.leases, lease),
    );
  }

  claims(namespace?: string): V1PersistentVolumeClaim[] {
    return this.objects(RESOURCES.persistentvolumeclaims, namespace).map((claim) =>
      toClient<V1PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, claim),
    );
  }

  secrets(namespace?: string): V1Secret[] {
    return this.objects(RESOURCES.secrets, namespace).map((secret) =>
      toClient<V1Secret>(RESOURCES.secrets, secret),
    );
  }

  secret(namespace: string, name: string): V1Secret | undefined {
    const secret = this.store.secrets.get(keyOf(namespace, name));
    return secret && toClient<V1Secret>(RESOURCES.secrets, secret);
  }

  // Resolves once the object exists (at once if it does), as the kubelet waits for a pod's Secret.
  whenExists<R extends ResourceName>(
    resource: R,
    namespace: string,
    name: string,
  ): Promise<ClientObjects[R]> {
    const info = RESOURCES[resource];
    const key = keyOf(namespace, name);
    const found = this.store[resource].get(key);
    if (found) return Promise.resolve(toClient<ClientObjects[R]>(info, found));
    return new Promise((resolve) => {
      this.existenceWaiters.add({
        info,
        key,
        resolve: (object) => resolve(toClient<ClientObjects[R]>(info, object)),
      });
    });
  }

  job(namespace: string, name: string): V1Job | undefined {
    const job = this.store.jobs.get(keyOf(namespace, name));
    return job && toClient<V1Job>(RESOURCES.jobs, job);
  }

  podsOfJob(namespace: string, jobName: string): V1Pod[] {
    return this.wirePodsOfJob(namespace, jobName).map((pod) => toClient<V1Pod>(RESOURCES.pods, pod));
  }

  // Listener runs once the Job and its pod exist and the create's response is on its way.
  // A test that runs a pod's container for real (a child process) stops it here when the pod is
  // deleted: the fake waits for the exit the kubelet would report.
  setKubelet(kubelet: FakeKubelet | undefined) {
    this.kubelet = kubelet;
  }

  onJobCreated(listener: (job: V1Job) => void): () => void {
    this.jobListeners.add(listener);
    return () => this.jobListeners.delete(listener);
  }

  updatePodStatus(namespace: string, podName: string, status: V1PodStatus): V1Pod {
    const pod = this.requireWire(RESOURCES.pods, namespace, podName) as WirePod;
    const next = clone(pod);
    next.status = secondsPrecision(status) as WirePodStatus;
    return toClient<V1Pod>(RESOURCES.pods, this.commit(RESOURCES.pods, 'MODIFIED', next, pod));
  }

  updateJobStatus(namespace: string, jobName: string, status: V1JobStatus): V1Job {
    const job = this.requireWire(RESOURCES.jobs, namespace, jobName) as WireJob;
    const next = clone(job);
    next.status = secondsPrecision(status) as WireJobStatus;
    return toClient<V1Job>(RESOURCES.jobs, this.commit(RESOURCES.jobs, 'MODIFIED', next, job));
  }

  // The scheduler finds no node: the pod stays Pending with PodScheduled=False.
  schedulePodFailure(
    namespace: string,
    jobName: string,
    message = '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
  ): V1Pod {
    const pod = this.currentPod(namespace, jobName);
    const status: WirePodStatus = {
      ...pod.status,
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: now(),
          reason: 'Unschedulable',
          message,
        },
      ],
    };
    return this.writePodStatus(pod, status);
  }

  // Scheduled, but the kubelet cannot pull the image: Pending, waiting in ImagePullBackOff.
  imagePullFailure(namespace: string, jobName: string): V1Pod {
    const pod = this.bind(this.currentPod(namespace, jobName));
    const containers = pod.spec?.containers ?? [];
    const names = containers.map((container) => container.name).join(' ');
    return this.writePodStatus(pod, {
      ...this.kubeletStatus(pod, 'Pending'),
      conditions: this.podConditions(pod, {
        ready: false,
        unready: `containers with unready status: [${names}]`,
      }),
      containerStatuses: containers.map((container) => ({
        name: container.name,
        image: container.image!,
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        lastState: {},
        state: {
          waiting: {
            reason: 'ImagePullBackOff',
            message: `Back-off pulling image "${container.image ?? ''}"`,
          },
        },
      })),
    });
  }

  // Scheduled, image pulled, the container running and ready; the Job counts it ready.
  runPod(namespace: string, jobName: string): V1Pod {
    const pod = this.bind(this.currentPod(namespace, jobName));
    const startedAt = now();
    const written = this.writePodStatus(pod, {
      ...this.kubeletStatus(pod, 'Running'),
      conditions: this.podConditions(pod, { ready: true }),
      containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
        ...this.containerIdentity(container),
        ready: true,
        restartCount: 0,
        started: true,
        lastState: {},
        state: { running: { startedAt } },
      })),
    });
    const job = this.requireWire(RESOURCES.jobs, namespace, jobName) as WireJob;
    this.writeJobStatus(job, { ...job.status, active: 1, ready: 1 });
    return written;
  }

  // The container exits: Succeeded on 0, Failed otherwise (restartPolicy Never); then the Job
  // controller finishes the Job (backoffLimit 0 is what our Jobs use).
  terminatePod(namespace: string, jobName: string, termination: TerminationOptions): V1Pod {
    const pod = this.bind(this.currentPod(namespace, jobName));
    const written = this.terminate(pod, termination);
    this.finishJob(
      namespace,
      jobName,
      termination.exitCode === 0 ? 'succeeded' : 'failed',
      'BackoffLimitExceeded',
    );
    return written;
  }

  // activeDeadlineSeconds passed: the Job controller marks the Job failing, deletes its pods
  // (graceful: the kubelet stops them first) and, once they are gone, marks it Failed.
  exceedDeadline(namespace: string, jobName: string): V1Job {
    const job = this.requireWire(RESOURCES.jobs, namespace, jobName) as WireJob;
    const reason = 'DeadlineExceeded';
    const message = 'Job was active longer than specified deadline';
    const failing = this.writeJobStatus(job, {
      ...job.status,
      conditions: [...(job.status?.conditions ?? []), this.jobCondition('FailureTarget', reason, message)],
    });
    const pods = this.wirePodsOfJob(namespace, jobName).filter((pod) => !pod.metadata.deletionTimestamp);
    void this.inBackground(async () => {
      await Promise.all(pods.map((pod) => this.deletePod(pod, { defaulted: true }).done));
      const current = this.store.jobs.get(keyOf(namespace, jobName)) as WireJob | undefined;
      if (!current) return;
      const status: WireJobStatus = {
        ...current.status,
        failed: (current.status?.failed ?? 0) + pods.length,
        ready: 0,
        terminating: 0,
        conditions: [...(current.status?.conditions ?? []), this.jobCondition('Failed', reason, message)],
      };
      delete status.active;
      this.writeJobStatus(current, status);
    });
    return toClient<V1Job>(RESOURCES.jobs, failing);
  }

  // The kubelet evicts the pod under node pressure; with no podFailurePolicy the Job fails.
  evictPod(namespace: string, jobName: string): V1Pod {
    const pod = this.bind(this.currentPod(namespace, jobName));
    const container = pod.spec?.containers[0];
    const request = container?.resources?.requests?.['memory'] ?? '0';
    const message = `The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. Container ${container?.name ?? ''} was using 3Gi, request is ${String(request)}, has larger consumption of memory. `;
    const written = this.terminate(pod, { exitCode: 137, reason: 'Error' }, { reason: 'Evicted', message });
    this.finishJob(namespace, jobName, 'failed', 'BackoffLimitExceeded');
    return written;
  }

  // Abruptly cuts every open watch (a network failure); the server stays up.
  dropWatches() {
    for (const watcher of this.watchers) {
      this.watchers.delete(watcher);
      clearTimeout(watcher.timer);
      watcher.res.socket?.destroy();
    }
  }

  // etcd compaction: history up to now is gone; watches from before it get 410 Expired.
  compact() {
    this.history.length = 0;
    this.compactedRv = this.rv;
  }

  openWatches(): number {
    return this.watchers.size;
  }

  // Between tests: every object, event, request, injected failure and listener forgotten; open
  // watches end. The resourceVersion keeps counting, so a client still holding an old one gets 410.
  reset() {
    for (const watcher of this.watchers) this.endWatch(watcher);
    for (const objects of Object.values(this.store)) objects.clear();
    this.compact();
    this.requests.length = 0;
    this.injected.length = 0;
    this.jobListeners.clear();
    this.kubelet = undefined;
  }

  // A progress notification: every watch that asked for bookmarks gets one at the current version.
  bookmark() {
    for (const watcher of this.watchers) {
      if (!watcher.bookmarks) continue;
      this.send(watcher, 'BOOKMARK', {
        kind: watcher.info.kind,
        apiVersion: apiVersionOf(watcher.info),
        metadata: { resourceVersion: String(this.rv) },
      });
    }
  }

  // The next request matching `method` and `path` gets this error instead of an answer.
  failNext(method: string, path: RegExp, status: number, reason?: string) {
    this.injected.push({ method: method.toUpperCase(), path, status, reason });
  }

  // Waits for the work the controllers do after a response (garbage collection, pod shutdown).
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  // ------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    let body: unknown;
    let bodyError: string | undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as unknown;
      } catch (error) {
        bodyError = (error as Error).message;
      }
    }
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      status: 0,
    };
    this.requests.push(entry);
    try {
      if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) {
        throw new ApiError(401, failure(401, 'Unauthorized', 'Unauthorized'));
      }
      const injected = this.injected.findIndex(
        (rule) => rule.method === entry.method && rule.path.test(entry.path),
      );
      if (injected >= 0) {
        const [rule] = this.injected.splice(injected, 1);
        throw injectedError(rule!.status, rule!.reason);
      }
      if (bodyError)
        throw badRequest(`the object provided is unrecognized (must be of type JSON): ${bodyError}`);
      this.route(req, res, entry);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : internalError(String(error));
      respond(res, entry, apiError.code, apiError.body, apiError.headers);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, entry: RecordedRequest) {
    const method = entry.method;
    for (const info of Object.values(RESOURCES)) {
      const prefix = info.prefix.replace(/\./g, '\\.');
      const match = new RegExp(`^${prefix}(?:/namespaces/([^/]+))?/${info.resource}(?:/([^/]+))?$`).exec(
        entry.path,
      );
      if (!match) continue;
      const namespace = match[1] && decodeURIComponent(match[1]);
      const name = match[2] && decodeURIComponent(match[2]);
      const query = entry.query;
      if (!name) {
        if (method === 'GET') {
          const watching = query['watch'] === 'true' || query['watch'] === '1';
          if (watching) return this.watch(res, entry, info, namespace, query);
          return respond(res, entry, 200, this.list(info, namespace, query));
        }
        if (method === 'POST' && namespace)
          return respond(res, entry, 201, this.create(info, namespace, entry.body, query));
        throw methodNotAllowed();
      }
      if (!namespace) throw pathNotFound();
      switch (method) {
        case 'GET':
          return respond(res, entry, 200, withType(info, this.requireWire(info, namespace, name)));
        case 'PUT': {
          const result = this.update(info, namespace, name, entry.body);
          return respond(res, entry, result.created ? 201 : 200, result.object);
        }
        case 'PATCH':
          return respond(
            res,
            entry,
            200,
            this.patch(info, namespace, name, entry.body, req.headers['content-type']),
          );
        case 'DELETE': {
          const result = this.delete(info, namespace, name, entry.body, query);
          return respond(res, entry, 200, result.body, result.headers);
        }
        default:
          throw methodNotAllowed();
      }
    }
    throw pathNotFound();
  }

  // ------------------------------------------------------------------------------------------
  // Verbs

  private list(info: ResourceInfo, namespace: string | undefined, query: Record<string, string>) {
    const labels = parseLabelSelector(query['labelSelector']);
    const fields = parseFieldSelector(info, query['fieldSelector']);
    const items = this.objects(info, namespace).filter((object) =>
      this.selects(info, labels, fields, object),
    );
    // Items of a built-in type's list carry no kind/apiVersion: only the list does.
    return {
      kind: `${info.kind}List`,
      apiVersion: apiVersionOf(info),
      metadata: { resourceVersion: String(this.rv) },
      items,
    };
  }

  private watch(
    res: ServerResponse,
    entry: RecordedRequest,
    info: ResourceInfo,
    namespace: string | undefined,
    query: Record<string, string>,
  ) {
    const labels = parseLabelSelector(query['labelSelector']);
    const fields = parseFieldSelector(info, query['fieldSelector']);
    const bookmarks = query['allowWatchBookmarks'] === 'true';
    const sendInitialEvents = query['sendInitialEvents'];
    if (sendInitialEvents === 'true') {
      const errors: FieldError[] = [];
      if (query['resourceVersionMatch'] !== 'NotOlderThan') {
        errors.push({
          type: 'Forbidden',
          field: 'resourceVersionMatch',
          detail: 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
        });
      }
      if (!bookmarks) {
        errors.push({
          type: 'Forbidden',
          field: 'allowWatchBookmarks',
          detail: 'sendInitialEvents requires setting allowWatchBookmarks to true',
        });
      }
      if (errors.length > 0) throw invalid({ ...info, group: 'meta.k8s.io' }, '', errors, 'ListOptions');
    }
    const requested = query['resourceVersion'];
    const from = requested && requested !== '0' ? Number(requested) : undefined;
    if (from !== undefined && !Number.isInteger(from))
      throw badRequest(
        `resourceVersion: Invalid value: "${requested}": strconv.ParseUint: parsing "${requested}": invalid syntax`,
      );

    entry.status = 200;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    res.flushHeaders();
    const watcher: Watcher = { info, namespace, labels, fields, res, bookmarks, timer: undefined };
    // The apiserver answers 200 and reports the expired version as the watch's one event.
    if (from !== undefined && from < this.compactedRv && sendInitialEvents !== 'true') {
      this.send(
        watcher,
        'ERROR',
        failure(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`),
      );
      res.end();
      return;
    }
    this.watchers.add(watcher);
    res.on('close', () => {
      this.watchers.delete(watcher);
      clearTimeout(watcher.timer);
    });
    if (sendInitialEvents === 'true' || (from === undefined && sendInitialEvents !== 'false')) {
      for (const object of this.objects(info, namespace)) {
        if (this.selects(info, labels, fields, object)) this.send(watcher, 'ADDED', withType(info, object));
      }
      if (sendInitialEvents === 'true') {
        this.send(watcher, 'BOOKMARK', {
          kind: info.kind,
          apiVersion: apiVersionOf(info),
          metadata: { resourceVersion: String(this.rv), annotations: { [INITIAL_EVENTS_END]: 'true' } },
        });
      }
    } else if (from !== undefined) {
      for (const event of this.history) if (event.rv > from) this.deliver(watcher, event);
    }
    const timeout = Number(query['timeoutSeconds']);
    if (timeout > 0) watcher.timer = setTimeout(() => this.endWatch(watcher), timeout * 1000);
  }

  private create(
    info: ResourceInfo,
    namespace: string,
    body: unknown,
    query: Record<string, string>,
  ): KubeObject {
    const object = this.decode(info, namespace, body);
    if (!object.metadata.name && object.metadata.generateName) {
      object.metadata.name = `${object.metadata.generateName.slice(0, 58)}${randomSuffix()}`;
    }
    this.requireNamespace(namespace);
    // A create carrying a resourceVersion (an object read back and re-sent) fails in storage.
    if (object.metadata.resourceVersion)
      throw internalError('resourceVersion should not be set on objects to be created');
    const created = this.prepareCreate(info, namespace, object);
    const errors = validateObject(info, created);
    if (errors.length > 0) throw invalid(info, created.metadata.name ?? '', errors);
    const name = created.metadata.name!;
    if (this.store[info.resource].has(keyOf(namespace, name))) {
      throw new ApiError(
        409,
        failure(
          409,
          'AlreadyExists',
          `${qualifiedResource(info)} "${name}" already exists`,
          resourceDetails(info, name),
        ),
      );
    }
    if (query['dryRun'] === 'All') return withType(info, created);
    const stored = this.commit(info, 'ADDED', created, undefined);
    if (info.resource === 'jobs') this.startJob(stored as WireJob);
    // The garbage collector collects a dependent whose owners are all gone (or never were).
    if ((stored.metadata.ownerReferences ?? []).length > 0)
      void this.inBackground(async () => {
        await nextTurn();
        this.collectIfOwnerless(info, stored);
      });
    return withType(info, stored);
  }

  private update(
    info: ResourceInfo,
    namespace: string,
    name: string,
    body: unknown,
  ): { object: KubeObject; created: boolean } {
    const object = this.decode(info, namespace, body);
    if (object.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    const existing = this.store[info.resource].get(keyOf(namespace, name));
    if (!existing) {
      if (!info.allowCreateOnUpdate) throw notFound(info, name);
      this.requireNamespace(namespace);
      delete object.metadata.resourceVersion;
      const created = this.prepareCreate(info, namespace, object);
      const errors = validateObject(info, created);
      if (errors.length > 0) throw invalid(info, name, errors);
      return { object: withType(info, this.commit(info, 'ADDED', created, undefined)), created: true };
    }
    const requested = object.metadata.resourceVersion;
    if (!requested) {
      if (!info.allowUnconditionalUpdate) {
        throw invalid(
          info,
          name,
          [
            {
              type: 'Invalid',
              field: 'metadata.resourceVersion',
              value: 0,
              detail: 'must be specified for an update',
            },
          ],
          info.resource,
        );
      }
    } else if (requested !== existing.metadata.resourceVersion) {
      throw conflict(info, name, OPTIMISTIC_LOCK);
    }
    if (object.metadata.uid && object.metadata.uid !== existing.metadata.uid) {
      throw conflict(
        info,
        name,
        `Precondition failed: UID in precondition: ${object.metadata.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`,
      );
    }
    const next = this.prepareUpdate(info, object, existing);
    const errors = validateObject(info, next);
    if (errors.length > 0) throw invalid(info, name, errors);
    return { object: withType(info, this.write(info, next, existing)), created: false };
  }

  private patch(
    info: ResourceInfo,
    namespace: string,
    name: string,
    body: unknown,
    contentType: string | undefined,
  ): KubeObject {
    const existing = this.requireWire(info, namespace, name);
    const current = withType(info, existing);
    const type = (contentType ?? '').split(';')[0]!.trim();
    let patched: unknown;
    if (type === 'application/json-patch+json') patched = applyJsonPatch(current, body);
    else if (type === 'application/merge-patch+json') patched = applyMergePatch(current, body);
    else {
      // Strategic merge and server-side apply need the types' patch strategies: not modelled.
      throw new ApiError(
        415,
        failure(
          415,
          'UnsupportedMediaType',
          `the fake API server accepts application/json-patch+json and application/merge-patch+json patches, not ${type || 'no content type'}`,
        ),
      );
    }
    if (!isObject(patched) || !isObject(patched['metadata']))
      throw badRequest('the patched object is not a Kubernetes object');
    const patchedMeta = patched['metadata'] as WireMeta;
    // A patch is conditional only if it sets resourceVersion itself.
    patchedMeta.resourceVersion ??= existing.metadata.resourceVersion;
    return this.update(info, namespace, name, patched).object;
  }

  private delete(
    info: ResourceInfo,
    namespace: string,
    name: string,
    body: unknown,
    query: Record<string, string>,
  ): { body: unknown; headers: Record<string, string> } {
    // As the apiserver: a DeleteOptions body, when there is one, wins over the query.
    const source: Record<string, unknown> = isObject(body) ? body : query;
    const options = deleteOptions(source);
    const existing = this.requireWire(info, namespace, name);
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid && uid !== existing.metadata.uid) {
      throw conflict(
        info,
        name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid ?? ''}`,
      );
    }
    if (resourceVersion && resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(
        info,
        name,
        `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`,
      );
    }
    const headers: Record<string, string> =
      info.resource === 'jobs' && options.defaulted ? { Warning: DELETE_WARNING } : {};
    if (existing.metadata.deletionTimestamp) return { body: withType(info, existing), headers };
    if (info.resource === 'pods')
      return { body: withType(info, this.deletePod(existing as WirePod, options).object), headers };
    const policy = options.propagationPolicy ?? info.defaultPropagation;
    if (info.resource === 'jobs' && policy !== 'Background') {
      return { body: withType(info, this.deleteWithFinalizer(existing as WireJob, policy)), headers };
    }
    const gone = this.commit(info, 'DELETED', clone(existing), existing);
    void this.inBackground(() => this.collectDependents(gone));
    if (info.returnDeletedObject) return { body: withType(info, gone), headers };
    return {
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: resourceDetails(info, name, { uid: existing.metadata.uid }),
      },
      headers,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Storage and watch fan-out

  private commit(
    info: ResourceInfo,
    type: EventType,
    next: KubeObject,
    prev: KubeObject | undefined,
  ): KubeObject {
    this.rv += 1;
    const stored = clone(next);
    delete stored.kind;
    delete stored.apiVersion;
    stored.metadata.resourceVersion = String(this.rv);
    const key = keyOf(stored.metadata.namespace!, stored.metadata.name!);
    if (type === 'DELETED') this.store[info.resource].delete(key);
    else this.store[info.resource].set(key, stored);
    const event: HistoryEvent = { rv: this.rv, info, type, object: clone(stored), prev: prev && clone(prev) };
    this.history.push(event);
    for (const watcher of this.watchers) this.deliver(watcher, event);
    if (type !== 'DELETED') {
      for (const waiter of this.existenceWaiters) {
        if (waiter.info !== info || waiter.key !== key) continue;
        this.existenceWaiters.delete(waiter);
        waiter.resolve(clone(stored));
      }
    }
    return clone(stored);
  }

  // An update: a no-op writes nothing (as etcd3's GuaranteedUpdate); removing the last
  // finalizer of an object being deleted deletes it.
  private write(info: ResourceInfo, next: KubeObject, existing: KubeObject): KubeObject {
    const { resourceVersion: _ignored, ...nextMeta } = next.metadata;
    const { resourceVersion: _current, ...existingMeta } = existing.metadata;
    if (same({ ...next, metadata: nextMeta }, { ...existing, metadata: existingMeta }))
      return clone(existing);
    // As the registry's shouldDeleteDuringUpdate: the update took away the last finalizer of an
    // object being deleted, with no graceful deletion pending.
    const finalized =
      existing.metadata.deletionTimestamp &&
      (existing.metadata.finalizers ?? []).length > 0 &&
      (next.metadata.finalizers ?? []).length === 0 &&
      !existing.metadata.deletionGracePeriodSeconds;
    if (finalized) return this.commit(info, 'DELETED', next, existing);
    return this.commit(info, 'MODIFIED', next, existing);
  }

  private deliver(watcher: Watcher, event: HistoryEvent) {
    if (watcher.info !== event.info) return;
    if (watcher.namespace && watcher.namespace !== event.object.metadata.namespace) return;
    const matches = (object: KubeObject | undefined) =>
      object !== undefined && this.selects(event.info, watcher.labels, watcher.fields, object);
    const info = event.info;
    switch (event.type) {
      case 'ADDED':
        if (matches(event.object)) this.send(watcher, 'ADDED', withType(info, event.object));
        return;
      case 'DELETED':
        if (matches(event.object)) this.send(watcher, 'DELETED', withType(info, event.object));
        return;
      case 'MODIFIED': {
        const now = matches(event.object);
        const before = matches(event.prev);
        if (now && before) this.send(watcher, 'MODIFIED', withType(info, event.object));
        else if (now) this.send(watcher, 'ADDED', withType(info, event.object));
        else if (before) {
          // Leaving the selector reads as a deletion: the old content at the new version.
          const gone = clone(event.prev!);
          gone.metadata.resourceVersion = String(event.rv);
          this.send(watcher, 'DELETED', withType(info, gone));
        }
        return;
      }
    }
  }

  private send(watcher: Watcher, type: string, object: unknown) {
    if (watcher.res.writableEnded || watcher.res.destroyed) return;
    watcher.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private endWatch(watcher: Watcher) {
    this.watchers.delete(watcher);
    clearTimeout(watcher.timer);
    if (!watcher.res.writableEnded) watcher.res.end();
  }

  private selects(info: ResourceInfo, labels: Requirement[], fields: Requirement[], object: KubeObject) {
    return (
      matchesRequirements(object.metadata.labels ?? {}, labels) &&
      matchesRequirements(fieldValues(info, object), fields)
    );
  }

  private objects(info: ResourceInfo, namespace: string | undefined): KubeObject[] {
    return [...this.store[info.resource].entries()]
      .filter(([, object]) => !namespace || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => clone(object));
  }

  private requireWire(info: ResourceInfo, namespace: string, name: string): KubeObject {
    const object = this.store[info.resource].get(keyOf(namespace, name));
    if (!object) throw notFound(info, name);
    return clone(object);
  }

  private requireNamespace(namespace: string) {
    if (this.options.namespaces && !this.options.namespaces.includes(namespace)) {
      throw new ApiError(
        404,
        failure(404, 'NotFound', `namespaces "${namespace}" not found`, {
          name: namespace,
          kind: 'namespaces',
        }),
      );
    }
  }

  // The request body as the decoder sees it: kind/apiVersion and namespace checked.
  private decode(info: ResourceInfo, namespace: string, body: unknown): KubeObject {
    if (!isObject(body))
      throw badRequest(`the object provided is unrecognized (must be of type ${info.kind})`);
    const object = clone(body) as KubeObject;
    if (object.kind !== undefined && object.kind !== info.kind) {
      throw badRequest(
        `${String(object.kind)} in version "${info.version}" cannot be handled as a ${info.kind}: the kind of the provided object does not match the resource`,
      );
    }
    if (object.apiVersion !== undefined && object.apiVersion !== apiVersionOf(info)) {
      throw badRequest(
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersionOf(info)})`,
      );
    }
    object.metadata = isObject(object.metadata) ? object.metadata : {};
    if (object.metadata.namespace && object.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    checkDecodable(info, object);
    delete object.kind;
    delete object.apiVersion;
    return object;
  }

  private prepareCreate(info: ResourceInfo, namespace: string, object: KubeObject): KubeObject {
    const created = clone(object);
    const meta = created.metadata;
    meta.namespace = namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    switch (info.resource) {
      case 'jobs': {
        const job = created as WireJob;
        defaultJob(job);
        generateSelector(job);
        job.status = {};
        meta.generation = 1;
        break;
      }
      case 'pods': {
        const pod = created as WirePod;
        pod.spec ??= { containers: [] };
        admitPod(pod.spec);
        pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec) };
        // Since 1.33 pods carry a generation too.
        meta.generation = 1;
        break;
      }
      case 'leases':
        delete meta.generation;
        break;
      case 'persistentvolumeclaims': {
        // No provisioner here: a claim waits Pending, as one on a class with WaitForFirstConsumer.
        delete meta.generation;
        const claim = created as Wire<V1PersistentVolumeClaim> & { metadata: WireMeta };
        claim.spec = { volumeMode: 'Filesystem', ...claim.spec };
        claim.status = { phase: 'Pending' };
        break;
      }
      case 'secrets':
        delete meta.generation;
        defaultSecret(created);
        break;
    }
    return created;
  }

  private prepareUpdate(info: ResourceInfo, object: KubeObject, existing: KubeObject): KubeObject {
    const next = clone(object);
    const meta = next.metadata;
    const old = existing.metadata;
    meta.namespace = old.namespace;
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    meta.generation = old.generation;
    if (old.deletionTimestamp) meta.deletionTimestamp = old.deletionTimestamp;
    else delete meta.deletionTimestamp;
    if (old.deletionGracePeriodSeconds !== undefined)
      meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    else delete meta.deletionGracePeriodSeconds;
    switch (info.resource) {
      case 'jobs': {
        const job = next as WireJob;
        const before = existing as WireJob;
        defaultJob(job);
        // The status belongs to the /status subresource.
        job.status = before.status;
        const errors: FieldError[] = [];
        for (const field of ['template', 'selector', 'completionMode'] as const) {
          if (!same(job.spec?.[field], before.spec?.[field])) {
            errors.push({
              type: 'Invalid',
              field: `spec.${field}`,
              value: job.spec?.[field],
              detail: 'field is immutable',
            });
          }
        }
        if (errors.length > 0) throw invalid(info, meta.name ?? '', errors);
        if (!same(job.spec, before.spec)) meta.generation = (old.generation ?? 0) + 1;
        break;
      }
      case 'pods': {
        const pod = next as WirePod;
        const before = existing as WirePod;
        pod.spec ??= { containers: [] };
        admitPod(pod.spec);
        pod.status = before.status;
        const images = (spec: WirePodSpec | undefined) => ({
          ...spec,
          containers: (spec?.containers ?? []).map((container) => ({ ...container, image: undefined })),
          activeDeadlineSeconds: undefined,
        });
        if (!same(images(pod.spec), images(before.spec))) {
          throw invalid(info, meta.name ?? '', [
            {
              type: 'Forbidden',
              field: 'spec',
              detail:
                'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
            },
          ]);
        }
        if (!same(pod.spec, before.spec)) meta.generation = (old.generation ?? 0) + 1;
        break;
      }
      case 'secrets': {
        defaultSecret(next);
        const errors = validateSecretUpdate(next, existing);
        if (errors.length > 0) throw invalid(info, meta.name ?? '', errors);
        break;
      }
      case 'leases':
      case 'persistentvolumeclaims':
        break;
    }
    return next;
  }

  // Foreground and Orphan: the object stays, marked, until the garbage collector is done.
  private deleteWithFinalizer(job: WireJob, policy: 'Foreground' | 'Orphan'): KubeObject {
    const marked = clone(job);
    marked.metadata.deletionTimestamp = now();
    marked.metadata.deletionGracePeriodSeconds = 0;
    marked.metadata.finalizers = [
      ...(job.metadata.finalizers ?? []),
      policy === 'Foreground' ? 'foregroundDeletion' : 'orphan',
    ];
    const stored = this.commit(RESOURCES.jobs, 'MODIFIED', marked, job) as WireJob;
    void this.inBackground(async () => {
      await nextTurn();
      if (policy === 'Foreground') await this.collectDependents(stored);
      else this.orphanDependents(stored);
      const current = this.store.jobs.get(keyOf(stored.metadata.namespace!, stored.metadata.name!));
      if (!current) return;
      const finalizer = policy === 'Foreground' ? 'foregroundDeletion' : 'orphan';
      const next = clone(current);
      next.metadata.finalizers = (current.metadata.finalizers ?? []).filter((name) => name !== finalizer);
      this.write(RESOURCES.jobs, next, current);
    });
    return stored;
  }

  // The garbage collector deletes the owner's dependents (pods gracefully) and, for Foreground,
  // waits until they are gone. A dependent with another owner still present only loses the
  // reference.
  private async collectDependents(owner: KubeObject) {
    await nextTurn();
    const pending: Promise<void>[] = [];
    for (const { info, object } of this.dependentsOf(owner)) {
      if (object.metadata.deletionTimestamp) continue;
      const others = (object.metadata.ownerReferences ?? []).filter(
        (reference) => reference.uid !== owner.metadata.uid,
      );
      if (others.some((reference) => this.ownerExists(object, reference))) {
        this.dropOwner(info, object, owner);
        continue;
      }
      if (info.resource === 'pods')
        pending.push(
          this.deletePod(object as WirePod, { propagationPolicy: 'Background', defaulted: false }).done,
        );
      else this.commit(info, 'DELETED', clone(object), object);
    }
    await Promise.all(pending);
    while (this.dependentsOf(owner).length > 0) await nextTurn();
  }

  private orphanDependents(owner: KubeObject) {
    for (const { info, object } of this.dependentsOf(owner)) this.dropOwner(info, object, owner);
  }

  private dropOwner(info: ResourceInfo, object: KubeObject, owner: KubeObject) {
    const next = clone(object);
    next.metadata.ownerReferences = (object.metadata.ownerReferences ?? []).filter(
      (reference) => reference.uid !== owner.metadata.uid,
    );
    this.write(info, next, object);
  }

  private dependentsOf(owner: KubeObject): { info: ResourceInfo; object: KubeObject }[] {
    return Object.values(RESOURCES).flatMap((info) =>
      this.objects(info, owner.metadata.namespace)
        .filter((object) =>
          (object.metadata.ownerReferences ?? []).some((reference) => reference.uid === owner.metadata.uid),
        )
        .map((object) => ({ info, object })),
    );
  }

  // An owner of a kind stored here exists with that name and uid, in the dependent's namespace;
  // one of another kind is taken to exist.
  private ownerExists(dependent: KubeObject, reference: WireOwnerReference): boolean {
    const info = Object.values(RESOURCES).find(
      (candidate) => candidate.kind === reference.kind && apiVersionOf(candidate) === reference.apiVersion,
    );
    if (!info) return true;
    const owner = this.store[info.resource].get(keyOf(dependent.metadata.namespace!, reference.name));
    return owner?.metadata.uid === reference.uid;
  }

  private collectIfOwnerless(info: ResourceInfo, object: KubeObject) {
    const current = this.store[info.resource].get(keyOf(object.metadata.namespace!, object.metadata.name!));
    if (!current || current.metadata.uid !== object.metadata.uid || current.metadata.deletionTimestamp)
      return;
    const references = current.metadata.ownerReferences ?? [];
    if (references.length === 0 || references.some((reference) => this.ownerExists(current, reference)))
      return;
    if (info.resource === 'pods')
      this.deletePod(current as WirePod, { propagationPolicy: 'Background', defaulted: false });
    else this.commit(info, 'DELETED', clone(current), current);
  }

  // A pod on a node is deleted gracefully: marked, stopped by the kubelet (Failed), then removed;
  // a pod never scheduled, already finished, or deleted with gracePeriodSeconds=0 goes at once.
  private deletePod(pod: WirePod, options: DeleteOptions): { object: KubeObject; done: Promise<void> } {
    const grace = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (!pod.spec?.nodeName || terminal || grace === 0) {
      return { object: this.commit(RESOURCES.pods, 'DELETED', clone(pod), pod), done: Promise.resolve() };
    }
    const marked = clone(pod);
    marked.metadata.deletionTimestamp = now(grace);
    marked.metadata.deletionGracePeriodSeconds = grace;
    const stored = this.commit(RESOURCES.pods, 'MODIFIED', marked, pod) as WirePod;
    const done = this.inBackground(async () => {
      await nextTurn();
      const running = this.store.pods.get(keyOf(stored.metadata.namespace!, stored.metadata.name!)) as
        WirePod | undefined;
      if (!running) return;
      // SIGTERM, as the kubelet sends first.
      const exit = this.kubelet
        ? await this.kubelet.stop(toClient<V1Pod>(RESOURCES.pods, running))
        : { exitCode: 143, reason: 'Error' };
      const current = this.store.pods.get(keyOf(running.metadata.namespace!, running.metadata.name!)) as
        WirePod | undefined;
      if (!current) return;
      this.terminate(clone(current), exit);
      await nextTurn();
      const last = this.store.pods.get(keyOf(running.metadata.namespace!, running.metadata.name!));
      if (last) this.commit(RESOURCES.pods, 'DELETED', clone(last), last);
    });
    return { object: stored, done };
  }

  private inBackground(work: () => Promise<void>): Promise<void> {
    const task: Promise<void> = work().finally(() => this.background.delete(task));
    this.background.add(task);
    return task;
  }

  // ------------------------------------------------------------------------------------------
  // The Job controller, the scheduler's binding and the kubelet

  private startJob(job: WireJob) {
    if (job.spec?.suspend) {
      this.writeJobStatus(job, {
        conditions: [this.jobCondition('Suspended', 'JobSuspended', 'Job suspended')],
      });
      return;
    }
    const template = clone(job.spec!.template);
    const name = job.metadata.name!;
    const pod: WirePod = {
      metadata: {
        name: `${name}-${randomSuffix()}`,
        generateName: `${name}-`,
        namespace: job.metadata.namespace,
        labels: { ...template.metadata?.labels },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name,
            uid: job.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: template.spec,
    };
    this.commit(
      RESOURCES.pods,
      'ADDED',
      this.prepareCreate(RESOURCES.pods, job.metadata.namespace!, pod),
      undefined,
    );
    const current = this.store.jobs.get(keyOf(job.metadata.namespace!, name)) as WireJob;
    this.writeJobStatus(current, {
      startTime: now(),
      active: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
    });
    if (this.jobListeners.size === 0) return;
    const created = toClient<V1Job>(
      RESOURCES.jobs,
      this.store.jobs.get(keyOf(job.metadata.namespace!, name))!,
    );
    setImmediate(() => {
      for (const listener of this.jobListeners) listener(clone(created));
    });
  }

  // The pod the scenarios act on: the Job's newest pod not being deleted.
  private currentPod(namespace: string, jobName: string): WirePod {
    const pods = this.wirePodsOfJob(namespace, jobName).filter((pod) => !pod.metadata.deletionTimestamp);
    const pod = pods
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))
      .pop();
    if (!pod) throw new Error(`fake-kube-api: Job ${namespace}/${jobName} has no pod`);
    return pod;
  }

  private wirePodsOfJob(namespace: string, jobName: string): WirePod[] {
    const job = this.store.jobs.get(keyOf(namespace, jobName));
    if (!job) return [];
    return this.podsOwnedBy(job as WireJob);
  }

  private podsOwnedBy(job: WireJob): WirePod[] {
    return this.objects(RESOURCES.pods, job.metadata.namespace).filter((pod) =>
      (pod.metadata.ownerReferences ?? []).some(
        (owner: WireOwnerReference) => owner.uid === job.metadata.uid,
      ),
    ) as WirePod[];
  }

  // The binding subresource: spec.nodeName and PodScheduled=True in one write.
  private bind(pod: WirePod): WirePod {
    if (pod.spec?.nodeName) return pod;
    const next = clone(pod);
    next.spec!.nodeName = NODE_NAME;
    next.status = {
      ...pod.status,
      conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() }],
    };
    return this.commit(RESOURCES.pods, 'MODIFIED', next, pod) as WirePod;
  }

  private kubeletStatus(pod: WirePod, phase: string): WirePodStatus {
    const podIP = pod.status?.podIP ?? `10.244.0.${(this.podIps += 1)}`;
    return {
      ...pod.status,
      phase,
      hostIP: '10.0.0.10',
      hostIPs: [{ ip: '10.0.0.10' }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: pod.status?.startTime ?? now(),
    };
  }

  private podConditions(
    pod: WirePod,
    state: { ready: boolean; unready?: string; terminal?: 'Succeeded' | 'Failed' },
  ): WirePodCondition[] {
    const at = now();
    const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
    const readyReason =
      state.terminal === 'Succeeded'
        ? 'PodCompleted'
        : state.terminal === 'Failed'
          ? 'PodFailed'
          : 'ContainersNotReady';
    const notReady = state.ready
      ? {}
      : { reason: readyReason, ...(state.terminal ? {} : { message: state.unready ?? '' }) };
    return [
      {
        type: 'PodReadyToStartContainers',
        status: state.terminal ? 'False' : 'True',
        lastProbeTime: null,
        lastTransitionTime: at,
      },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      {
        type: 'Ready',
        status: state.ready ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: at,
        ...notReady,
      },
      {
        type: 'ContainersReady',
        status: state.ready ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: at,
        ...notReady,
      },
      scheduled ?? { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at },
    ];
  }

  private containerIdentity(container: WireContainer) {
    const image = container.image ?? '';
    return {
      name: container.name,
      image,
      imageID: `${image.split(':')[0] ?? image}@sha256:${randomBytes(32).toString('hex')}`,
      containerID: `containerd://${randomBytes(32).toString('hex')}`,
    };
  }

  // The container ends; for a restartPolicy Never pod that is the pod's end too.
  private terminate(
    pod: WirePod,
    termination: TerminationOptions,
    eviction?: { reason: string; message: string },
  ): V1Pod {
    const phase = termination.exitCode === 0 && !eviction ? 'Succeeded' : 'Failed';
    const finishedAt = now();
    const previous = pod.status?.containerStatuses ?? [];
    const status: WirePodStatus = {
      ...this.kubeletStatus(pod, phase),
      ...(eviction ? { reason: eviction.reason, message: eviction.message } : {}),
      conditions: [
        ...(eviction
          ? [
              {
                type: 'DisruptionTarget',
                status: 'True',
                lastProbeTime: null,
                lastTransitionTime: finishedAt,
                reason: 'TerminationByKubelet',
                message: eviction.message,
              },
            ]
          : []),
        ...this.podConditions(pod, { ready: false, terminal: phase }),
      ],
      containerStatuses: (pod.spec?.containers ?? []).map((container) => {
        const before = previous.find((status) => status.name === container.name);
        const identity = before?.containerID
          ? {
              name: before.name,
              image: before.image,
              imageID: before.imageID,
              containerID: before.containerID,
            }
          : this.containerIdentity(container);
        return {
          ...identity,
          ready: false,
          restartCount: 0,
          started: false,
          lastState: {},
          state: {
            terminated: {
              exitCode: termination.exitCode,
              reason: termination.reason,
              ...(termination.message ? { message: termination.message } : {}),
              startedAt: before?.state?.running?.startedAt ?? finishedAt,
              finishedAt,
              containerID: identity.containerID,
            },
          },
        };
      }),
    };
    return this.writePodStatus(pod, status);
  }

  // The Job controller's two steps at the end: the interim condition (SuccessCriteriaMet or
  // FailureTarget, 1.31+), then the terminal one once no pod is left running.
  private finishJob(namespace: string, jobName: string, outcome: 'succeeded' | 'failed', failReason: string) {
    const job = this.requireWire(RESOURCES.jobs, namespace, jobName) as WireJob;
    const [interim, terminal, reason, message] =
      outcome === 'succeeded'
        ? [
            'SuccessCriteriaMet',
            'Complete',
            'CompletionsReached',
            'Reached expected number of succeeded pods',
          ]
        : ['FailureTarget', 'Failed', failReason, 'Job has reached the specified backoff limit'];
    const counted: WireJobStatus = {
      ...job.status,
      [outcome]: (job.status?.[outcome] ?? 0) + 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
      conditions: [...(job.status?.conditions ?? []), this.jobCondition(interim, reason, message)],
    };
    delete counted.active;
    const first = this.writeJobStatus(job, counted);
    this.writeJobStatus(first, {
      ...first.status,
      ...(outcome === 'succeeded' ? { completionTime: now() } : {}),
      conditions: [...(first.status?.conditions ?? []), this.jobCondition(terminal, reason, message)],
    });
  }

  private jobCondition(type: string, reason: string, message: string): WireJobCondition {
    const at = now();
    return { type, status: 'True', lastProbeTime: at, lastTransitionTime: at, reason, message };
  }

  private writePodStatus(pod: WirePod, status: WirePodStatus): V1Pod {
    const current = this.store.pods.get(keyOf(pod.metadata.namespace!, pod.metadata.name!)) ?? pod;
    const next = clone(current) as WirePod;
    next.status = status;
    return toClient<V1Pod>(RESOURCES.pods, this.write(RESOURCES.pods, next, current));
  }

  private writeJobStatus(job: WireJob, status: WireJobStatus): WireJob {
    const current = this.store.jobs.get(keyOf(job.metadata.namespace!, job.metadata.name!)) ?? job;
    const next = clone(current) as WireJob;
    next.status = status;
    return this.write(RESOURCES.jobs, next, current) as WireJob;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

function withType(info: ResourceInfo, object: KubeObject): KubeObject {
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = object;
  return { kind: info.kind, apiVersion: apiVersionOf(info), ...rest };
}

function toClient<T>(info: ResourceInfo, object: KubeObject): T {
  return ObjectSerializer.deserialize(withType(info, object), `V1${info.kind}`, '') as T;
}

function deleteOptions(source: Record<string, unknown>): DeleteOptions {
  const policy = source['propagationPolicy'];
  const orphan = source['orphanDependents'];
  const grace = source['gracePeriodSeconds'];
  const propagationPolicy =
    policy === 'Foreground' || policy === 'Background' || policy === 'Orphan'
      ? policy
      : orphan === true || orphan === 'true'
        ? 'Orphan'
        : orphan === false || orphan === 'false'
          ? 'Background'
          : undefined;
  if (policy !== undefined && propagationPolicy !== policy) {
    throw badRequest(
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  const preconditions = isObject(source['preconditions'])
    ? (source['preconditions'] as DeleteOptions['preconditions'])
    : undefined;
  return {
    ...(propagationPolicy ? { propagationPolicy } : {}),
    ...(grace !== undefined ? { gracePeriodSeconds: Number(grace) } : {}),
    ...(preconditions ? { preconditions } : {}),
    defaulted: propagationPolicy === undefined,
  };
}

function respond(
  res: ServerResponse,
  entry: RecordedRequest,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  entry.status = status;
  if (res.headersSent) {
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function pathNotFound() {
  return new ApiError(404, failure(404, 'NotFound', 'the server could not find the requested resource', {}));
}

function methodNotAllowed() {
  return new ApiError(
    405,
    failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
  );
}

const INJECTED: Record<number, [string, string]> = {
  400: ['BadRequest', 'the server rejected our request for an unknown reason'],
  403: ['Forbidden', 'forbidden'],
  404: ['NotFound', 'the server could not find the requested resource'],
  409: ['Conflict', 'the server reported a conflict'],
  410: ['Expired', 'the resource version is too old'],
  429: ['TooManyRequests', 'Too many requests, please try again later.'],
  500: ['InternalError', 'Internal error occurred: injected failure'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: [
    'Timeout',
    'the server was unable to return a response in the time allotted, but may still be processing the request',
  ],
};

function injectedError(status: number, reason: string | undefined) {
  const [defaultReason, message] = INJECTED[status] ?? ['InternalError', `injected ${status}`];
  // 429s come with Retry-After from priority and fairness.
  const headers: Record<string, string> = status === 429 ? { 'Retry-After': '1' } : {};
  return new ApiError(
    status,
    failure(
      status,
      reason ?? defaultReason,
      message,
      status === 500 ? { causes: [{ message: 'injected failure' }] } : undefined,
    ),
    headers,
  );
}
