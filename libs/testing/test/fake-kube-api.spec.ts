import {
  ApiException,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  V1MicroTime,
  Watch,
  type V1Job,
  type V1Lease,
  type V1OwnerReference,
  type V1Secret,
} from '@kubernetes/client-node';
import { startFakeKubeApi, type FakeKubeApi } from '../src/fake-kube-api';

// The fake API server is only worth its tests if it answers as a real one: these drive it
// through the official client alone and check the shapes and semantics the executor relies on.

const NS = 'hangar-tasks';

interface WatchObject {
  kind?: string;
  apiVersion?: string;
  code?: number;
  reason?: string;
  message?: string;
  metadata?: {
    name?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

interface WatchEvent {
  type: string;
  object: WatchObject;
}

// A watch's events as they come, awaited without sleeping.
class EventLog {
  readonly events: WatchEvent[] = [];
  done: { error: unknown } | undefined;
  controller: AbortController | undefined;
  private waiters: (() => void)[] = [];

  static async open(
    kc: KubeConfig,
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
  ): Promise<EventLog> {
    const log = new EventLog();
    log.controller = await new Watch(kc).watch(
      path,
      query,
      (type: string, object: WatchObject) => log.push({ type, object }),
      (error: unknown) => {
        log.done = { error };
        log.wake();
      },
    );
    return log;
  }

  private push(event: WatchEvent) {
    this.events.push(event);
    this.wake();
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async until(predicate: (events: WatchEvent[]) => boolean, what: string): Promise<WatchEvent[]> {
    const deadline = Date.now() + 3000;
    while (!predicate(this.events)) {
      if (this.done || Date.now() > deadline) {
        throw new Error(`watch ended or timed out waiting for ${what}: ${JSON.stringify(this.summary())}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
    return this.events;
  }

  async ended(): Promise<{ error: unknown }> {
    while (!this.done) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.done;
  }

  summary() {
    return this.events.map((event) => `${event.type} ${event.object.metadata?.name ?? ''}`);
  }

  close() {
    this.controller?.abort();
  }
}

function job(name: string, labels: Record<string, string> = { app: 'hangar' }): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'agent',
              image: 'registry.example.com/agent:1.0.0',
              resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } },
            },
          ],
        },
      },
    },
  };
}

function lease(name: string, holder: string, labels?: Record<string, string>): V1Lease {
  const now = new V1MicroTime();
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    },
  };
}

function secret(name: string, fields: Partial<V1Secret> = {}, owners: V1OwnerReference[] = []): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, ...(owners.length > 0 ? { ownerReferences: owners } : {}) },
    ...fields,
  };
}

function ownedBy(created: V1Job): V1OwnerReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: created.metadata!.name!, uid: created.metadata!.uid! };
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

async function apiError(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body =
      typeof error.body === 'string' && error.body ? (JSON.parse(error.body) as Record<string, unknown>) : {};
    return { code: error.code, body };
  }
  throw new Error('expected the request to fail');
}

describe('FakeKubeApi', () => {
  let fake: FakeKubeApi;
  let kc: KubeConfig;
  let batch: BatchV1Api;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  const logs: EventLog[] = [];

  beforeAll(async () => {
    fake = await startFakeKubeApi({ token: 'secret-token' });
    kc = fake.kubeConfig();
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
    coordination = kc.makeApiClient(CoordinationV1Api);
  });

  afterEach(async () => {
    for (const log of logs.splice(0)) log.close();
    await fake.settled();
    fake.reset();
  });

  afterAll(async () => {
    await fake.close();
  });

  async function watch(path: string, query: Record<string, string | number | boolean | undefined> = {}) {
    const log = await EventLog.open(kc, path, query);
    logs.push(log);
    return log;
  }

  describe('create, get and list', () => {
    it('should return 201 with the object as stored, defaults and generated selector included', async () => {
      const created = await batch.createNamespacedJob({ namespace: NS, body: job('j1') });
      expect(fake.requests.at(-1)).toMatchObject({
        method: 'POST',
        path: `/apis/batch/v1/namespaces/${NS}/jobs`,
        status: 201,
      });
      const uid = created.metadata!.uid!;
      expect(uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.metadata).toMatchObject({ name: 'j1', namespace: NS, generation: 1 });
      expect(Number(created.metadata!.resourceVersion)).toBeGreaterThan(0);
      expect(created.metadata!.creationTimestamp).toBeInstanceOf(Date);
      expect(created.metadata!.creationTimestamp!.getMilliseconds()).toBe(0);
      expect(created.spec).toMatchObject({
        completions: 1,
        parallelism: 1,
        suspend: false,
        completionMode: 'NonIndexed',
        podReplacementPolicy: 'TerminatingOrFailed',
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      });
      expect(created.spec!.manualSelector).toBeUndefined();
      expect(created.spec!.template.metadata!.labels).toEqual({
        app: 'hangar',
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': 'j1',
        'controller-uid': uid,
        'job-name': 'j1',
      });
      expect(created.spec!.template.spec).toMatchObject({
        dnsPolicy: 'ClusterFirst',
        terminationGracePeriodSeconds: 30,
      });
      expect(created.status).toEqual({});
    });

    it('should play the Job controller: one pod, owned by the Job, and the Job counting it active', async () => {
      const created = await batch.createNamespacedJob({ namespace: NS, body: job('j2') });
      const pods = await core.listNamespacedPod({
        namespace: NS,
        labelSelector: 'batch.kubernetes.io/job-name=j2',
      });
      expect(pods.items).toHaveLength(1);
      const pod = pods.items[0]!;
      expect(pod.metadata!.name).toMatch(/^j2-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(pod.metadata!.ownerReferences).toEqual([
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: 'j2',
          uid: created.metadata!.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(pod.metadata!.labels).toMatchObject({
        app: 'hangar',
        'job-name': 'j2',
        'controller-uid': created.metadata!.uid,
      });
      expect(pod.spec!.nodeName).toBeUndefined();
      expect(pod.spec!.containers[0]).toMatchObject({
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePath: '/dev/termination-log',
      });
      expect(pod.status).toEqual({ phase: 'Pending', qosClass: 'Burstable' });
      const read = await batch.readNamespacedJob({ name: 'j2', namespace: NS });
      expect(read.status).toMatchObject({ active: 1, ready: 0, terminating: 0 });
      expect(read.status!.startTime).toBeInstanceOf(Date);
    });

    it('should answer a second create with 409 AlreadyExists', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('twice') });
      const error = await apiError(batch.createNamespacedJob({ namespace: NS, body: job('twice') }));
      expect(error).toEqual({
        code: 409,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'jobs.batch "twice" already exists',
          reason: 'AlreadyExists',
          details: { name: 'twice', group: 'batch', kind: 'jobs' },
          code: 409,
        },
      });
    });

    it('should answer a missing object with 404 NotFound, worded per resource', async () => {
      expect(await apiError(batch.readNamespacedJob({ name: 'nope', namespace: NS }))).toEqual({
        code: 404,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'jobs.batch "nope" not found',
          reason: 'NotFound',
          details: { name: 'nope', group: 'batch', kind: 'jobs' },
          code: 404,
        },
      });
      const pod = await apiError(core.readNamespacedPod({ name: 'nope', namespace: NS }));
      expect(pod.body).toMatchObject({
        message: 'pods "nope" not found',
        details: { name: 'nope', kind: 'pods' },
      });
      expect(pod.body['details']).not.toHaveProperty('group');
      const leaseError = await apiError(coordination.readNamespacedLease({ name: 'nope', namespace: NS }));
      expect(leaseError.body).toMatchObject({ message: 'leases.coordination.k8s.io "nope" not found' });
    });

    it('should reject a Job the API would not take with 422, naming the field', async () => {
      const body = job('always');
      body.spec!.template.spec!.restartPolicy = 'Always';
      const error = await apiError(batch.createNamespacedJob({ namespace: NS, body }));
      expect(error.code).toBe(422);
      expect(error.body).toMatchObject({
        reason: 'Invalid',
        message:
          'Job.batch "always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
        details: {
          name: 'always',
          group: 'batch',
          kind: 'Job',
          causes: [
            {
              reason: 'FieldValueNotSupported',
              message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"',
              field: 'spec.template.spec.restartPolicy',
            },
          ],
        },
      });

      const broken = job('Bad_Name');
      broken.spec!.template.spec!.containers[0]!.volumeMounts = [{ name: 'missing', mountPath: '/x' }];
      broken.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: '2' }, limits: { cpu: '1' } };
      const fields = (await apiError(batch.createNamespacedJob({ namespace: NS, body: broken }))).body[
        'details'
      ] as {
        causes: { field: string }[];
      };
      expect(fields.causes.map((cause) => cause.field)).toEqual(
        expect.arrayContaining([
          'metadata.name',
          'spec.template.spec.containers[0].volumeMounts[0].name',
          'spec.template.spec.containers[0].resources.requests',
        ]),
      );
      expect(fake.jobs(NS)).toHaveLength(0);
    });

    it('should reject a body of another kind or namespace with 400, and a re-sent object with 500', async () => {
      const other = await apiError(
        batch.createNamespacedJob({
          namespace: NS,
          body: { ...job('j'), metadata: { name: 'j', namespace: 'elsewhere' } },
        }),
      );
      expect(other).toMatchObject({
        code: 400,
        body: {
          reason: 'BadRequest',
          message: 'the namespace of the provided object does not match the namespace sent on the request',
        },
      });
      const created = await batch.createNamespacedJob({ namespace: NS, body: job('again') });
      await batch.deleteNamespacedJob({ name: 'again', namespace: NS, propagationPolicy: 'Background' });
      // Creating what was read back (resourceVersion and all) fails in storage, as it does for real.
      const resent = await apiError(batch.createNamespacedJob({ namespace: NS, body: created }));
      expect(resent).toMatchObject({
        code: 500,
        body: {
          reason: 'InternalError',
          message: 'Internal error occurred: resourceVersion should not be set on objects to be created',
        },
      });
    });

    it('should list only what the label selector matches, without kind on the items', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('a', { app: 'hangar', tier: 'x' }) });
      await batch.createNamespacedJob({ namespace: NS, body: job('b', { app: 'hangar' }) });
      await batch.createNamespacedJob({ namespace: NS, body: job('c', { app: 'other' }) });
      const names = async (labelSelector: string) =>
        (await batch.listNamespacedJob({ namespace: NS, labelSelector })).items.map(
          (item) => item.metadata!.name,
        );
      expect(await names('app=hangar')).toEqual(['a', 'b']);
      expect(await names('app==hangar,tier')).toEqual(['a']);
      expect(await names('app!=hangar')).toEqual(['c']);
      expect(await names('!tier')).toEqual(['b', 'c']);
      expect(await names('app in (other, none)')).toEqual(['c']);
      const list = await batch.listNamespacedJob({ namespace: NS });
      expect(list).toMatchObject({
        kind: 'JobList',
        apiVersion: 'batch/v1',
        metadata: { resourceVersion: fake.resourceVersion() },
      });
      expect(list.items[0]!.kind).toBeUndefined();
      expect(list.items[0]!.apiVersion).toBeUndefined();
    });
  });

  describe('persistent volume claims', () => {
    it('should store a claim Pending, refuse a second of the same name and one without storage', async () => {
      const body = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'c1' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } },
      };
      const created = await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body });
      expect(created.status?.phase).toBe('Pending');
      expect(created.spec).toMatchObject({ volumeMode: 'Filesystem', accessModes: ['ReadWriteOnce'] });
      const again = await apiError(core.createNamespacedPersistentVolumeClaim({ namespace: NS, body }));
      expect(again.code).toBe(409);
      expect(again.body).toMatchObject({
        reason: 'AlreadyExists',
        message: 'persistentvolumeclaims "c1" already exists',
      });
      const bad = await apiError(
        core.createNamespacedPersistentVolumeClaim({
          namespace: NS,
          body: { ...body, metadata: { name: 'c2' }, spec: { accessModes: [] } },
        }),
      );
      expect(bad.code).toBe(422);
      const details = bad.body['details'] as { causes?: { field: string }[] } | undefined;
      expect(details?.causes?.map((cause) => cause.field)).toEqual([
        'spec.accessModes',
        'spec.resources[storage]',
      ]);
      expect(fake.claims(NS).map((claim) => claim.metadata?.name)).toEqual(['c1']);
    });
  });

  describe('secrets and owner references', () => {
    it('should store stringData as base64 data, default the type, and answer a deletion with a Status', async () => {
      const created = await core.createNamespacedSecret({
        namespace: NS,
        body: secret('s1', { data: { other: base64('y') }, stringData: { token: 'hga_x' } }),
      });
      expect(created).toMatchObject({ type: 'Opaque', data: { other: base64('y'), token: base64('hga_x') } });
      expect(created.stringData).toBeUndefined();
      expect(await core.readNamespacedSecret({ name: 's1', namespace: NS })).toEqual(created);
      expect(fake.secret(NS, 's1')?.data).toEqual(created.data);
      const deleted = await core.deleteNamespacedSecret({ name: 's1', namespace: NS });
      expect(deleted).toMatchObject({
        kind: 'Status',
        status: 'Success',
        details: { name: 's1', kind: 'secrets' },
      });
      expect(fake.secrets(NS)).toEqual([]);
    });

    it('should refuse data that is not base64 (400), a bad key or too much data (422), and a change to an immutable Secret', async () => {
      const undecodable = await apiError(
        core.createNamespacedSecret({
          namespace: NS,
          body: secret('s2', { data: { token: 'not base64!' } }),
        }),
      );
      expect(undecodable).toMatchObject({
        code: 400,
        body: {
          message:
            'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3',
        },
      });
      const invalid = await apiError(
        core.createNamespacedSecret({
          namespace: NS,
          body: secret('s2', { data: { 'bad key': base64('x'), big: base64('x'.repeat(1024 * 1024 + 1)) } }),
        }),
      );
      expect(invalid.code).toBe(422);
      const details = invalid.body['details'] as { causes?: { field: string; reason: string }[] };
      expect(details.causes).toEqual([
        expect.objectContaining({ field: 'data[bad key]', reason: 'FieldValueInvalid' }),
        expect.objectContaining({ field: 'data', reason: 'FieldValueTooLong' }),
      ]);
      const sealed = await core.createNamespacedSecret({
        namespace: NS,
        body: secret('sealed', { immutable: true, data: { token: base64('a') } }),
      });
      const changed = await apiError(
        core.replaceNamespacedSecret({
          name: 'sealed',
          namespace: NS,
          body: { ...sealed, data: { token: base64('b') } },
        }),
      );
      expect(changed.code).toBe(422);
      expect(changed.body['message']).toBe(
        'Secret "sealed" is invalid: data: Forbidden: field is immutable when `immutable` is set',
      );
      expect(fake.secret(NS, 'sealed')?.data).toEqual({ token: base64('a') });
    });

    it('should refuse an owner reference without its uid, and two controllers', async () => {
      const created = await batch.createNamespacedJob({ namespace: NS, body: job('owner') });
      const noUid = await apiError(
        core.createNamespacedSecret({
          namespace: NS,
          body: secret('s3', {}, [{ ...ownedBy(created), uid: '' }]),
        }),
      );
      expect(noUid.code).toBe(422);
      expect(noUid.body['message']).toBe(
        'Secret "s3" is invalid: metadata.ownerReferences.uid: Invalid value: "": must not be empty',
      );
      const twoControllers = await apiError(
        core.createNamespacedSecret({
          namespace: NS,
          body: secret('s3', {}, [
            { ...ownedBy(created), controller: true },
            { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true },
          ]),
        }),
      );
      expect(twoControllers.code).toBe(422);
      expect(String(twoControllers.body['message'])).toContain(
        'Only one reference can have Controller set to true. Found "true" in references for Job/owner and Pod/p',
      );
    });

    it('should collect a Secret with its Job (Background, Foreground), keep it unowned on Orphan, and collect one whose owner is gone', async () => {
      for (const propagationPolicy of ['Background', 'Foreground', 'Orphan'] as const) {
        const name = `owner-${propagationPolicy.toLowerCase()}`;
        const created = await batch.createNamespacedJob({ namespace: NS, body: job(name) });
        await core.createNamespacedSecret({ namespace: NS, body: secret(name, {}, [ownedBy(created)]) });
        await batch.deleteNamespacedJob({ name, namespace: NS, propagationPolicy });
        await fake.settled();
        expect(fake.job(NS, name)).toBeUndefined();
        if (propagationPolicy === 'Orphan')
          expect(fake.secret(NS, name)?.metadata?.ownerReferences).toEqual([]);
        else expect(fake.secret(NS, name)).toBeUndefined();
      }
      // Of two owners, the one left keeps it.
      const first = await batch.createNamespacedJob({ namespace: NS, body: job('first') });
      const second = await batch.createNamespacedJob({ namespace: NS, body: job('second') });
      await core.createNamespacedSecret({
        namespace: NS,
        body: secret('shared', {}, [ownedBy(first), ownedBy(second)]),
      });
      await batch.deleteNamespacedJob({ name: 'first', namespace: NS, propagationPolicy: 'Background' });
      await fake.settled();
      expect(fake.secret(NS, 'shared')?.metadata?.ownerReferences).toEqual([ownedBy(second)]);
      // An owner that is not there (or is another object of that name): the dependent goes.
      await core.createNamespacedSecret({
        namespace: NS,
        body: secret('dangling', {}, [{ ...ownedBy(second), uid: '00000000-0000-0000-0000-000000000000' }]),
      });
      await fake.settled();
      expect(fake.secret(NS, 'dangling')).toBeUndefined();
    });

    it('should let a test wait for an object to exist, as the kubelet waits for a Secret', async () => {
      const waiting = fake.whenExists('secrets', NS, 'later');
      await core.createNamespacedSecret({ namespace: NS, body: secret('later', { stringData: { k: 'v' } }) });
      expect((await waiting).data).toEqual({ k: base64('v') });
      expect((await fake.whenExists('secrets', NS, 'later')).metadata?.name).toBe('later');
    });
  });

  describe('watch', () => {
    it('should send ADDED, MODIFIED and DELETED, in order, from the list resourceVersion on', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('before') });
      const list = await batch.listNamespacedJob({ namespace: NS, labelSelector: 'app=hangar' });
      const log = await watch(`/apis/batch/v1/namespaces/${NS}/jobs`, {
        resourceVersion: list.metadata!.resourceVersion,
        labelSelector: 'app=hangar',
      });
      await batch.createNamespacedJob({ namespace: NS, body: job('w1') });
      await batch.createNamespacedJob({ namespace: NS, body: job('ignored', { app: 'other' }) });
      fake.updateJobStatus(NS, 'w1', { active: 1, ready: 1 });
      await batch.deleteNamespacedJob({ name: 'w1', namespace: NS, propagationPolicy: 'Background' });
      const events = await log.until((all) => all.some((event) => event.type === 'DELETED'), 'DELETED');
      // ADDED by the create, MODIFIED by the Job controller (active 1), then by the status update.
      expect(log.summary()).toEqual(['ADDED w1', 'MODIFIED w1', 'MODIFIED w1', 'DELETED w1']);
      expect(events[0]!.object).toMatchObject({ kind: 'Job', apiVersion: 'batch/v1' });
      const versions = events.map((event) => Number(event.object.metadata!.resourceVersion));
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      expect(new Set(versions).size).toBe(versions.length);
    });

    it('should start with synthetic ADDED events when no resourceVersion is given', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('existing') });
      const log = await watch(`/apis/batch/v1/namespaces/${NS}/jobs`);
      await log.until((events) => events.length >= 1, 'ADDED');
      expect(log.summary()).toEqual(['ADDED existing']);
    });

    it('should report a compacted resourceVersion as one ERROR event with code 410, then end', async () => {
      const list = await batch.listNamespacedJob({ namespace: NS });
      await batch.createNamespacedJob({ namespace: NS, body: job('after') });
      fake.compact();
      const log = await watch(`/apis/batch/v1/namespaces/${NS}/jobs`, {
        resourceVersion: list.metadata!.resourceVersion,
      });
      const done = await log.ended();
      expect(done.error).toBeNull();
      expect(log.events).toEqual([
        {
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: `too old resource version: ${list.metadata!.resourceVersion} (${fake.resourceVersion()})`,
            reason: 'Expired',
            code: 410,
          },
        },
      ]);
      expect(fake.requests.at(-1)).toMatchObject({ status: 200, query: { watch: 'true' } });
    });

    it('should send bookmarks only to watches that asked for them', async () => {
      const path = `/apis/batch/v1/namespaces/${NS}/jobs`;
      const rv = fake.resourceVersion();
      const plain = await watch(path, { resourceVersion: rv });
      const withBookmarks = await watch(path, { resourceVersion: rv, allowWatchBookmarks: true });
      fake.bookmark();
      await batch.createNamespacedJob({ namespace: NS, body: job('bm') });
      await withBookmarks.until((events) => events.some((event) => event.type === 'ADDED'), 'ADDED');
      await plain.until((events) => events.some((event) => event.type === 'ADDED'), 'ADDED');
      expect(withBookmarks.events[0]).toEqual({
        type: 'BOOKMARK',
        object: { kind: 'Job', apiVersion: 'batch/v1', metadata: { resourceVersion: rv } },
      });
      expect(plain.events.map((event) => event.type)).not.toContain('BOOKMARK');
    });

    it('should end the initial events of sendInitialEvents with the initial-events-end bookmark', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('streamed') });
      const log = await watch(`/apis/batch/v1/namespaces/${NS}/jobs`, {
        sendInitialEvents: true,
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: true,
      });
      await log.until((events) => events.some((event) => event.type === 'BOOKMARK'), 'the bookmark');
      expect(log.events[0]!.type).toBe('ADDED');
      expect(log.events[1]!.object.metadata!.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    });

    it('should send DELETED for an object that stops matching the selector', async () => {
      await coordination.createNamespacedLease({ namespace: NS, body: lease('l1', 'a', { role: 'leader' }) });
      const log = await watch(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, {
        resourceVersion: fake.resourceVersion(),
        labelSelector: 'role=leader',
      });
      const current = await coordination.readNamespacedLease({ name: 'l1', namespace: NS });
      await coordination.replaceNamespacedLease({
        name: 'l1',
        namespace: NS,
        body: { ...current, metadata: { ...current.metadata, labels: { role: 'none' } } },
      });
      await log.until((events) => events.length >= 1, 'DELETED');
      expect(log.summary()).toEqual(['DELETED l1']);
    });

    it('should end a watch after timeoutSeconds, and report a cut connection to the client', async () => {
      const timed = await watch(`/apis/batch/v1/namespaces/${NS}/jobs`, { timeoutSeconds: 1 });
      expect((await timed.ended()).error).toBeNull();
      const cut = await watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: fake.resourceVersion() });
      expect(fake.openWatches()).toBe(1);
      fake.dropWatches();
      await cut.ended();
      expect(fake.openWatches()).toBe(0);
      // The server stays up.
      await expect(core.listNamespacedPod({ namespace: NS })).resolves.toMatchObject({ items: [] });
    });
  });

  describe('leases: optimistic concurrency', () => {
    it('should take a replace with the current resourceVersion and refuse a stale one with 409 Conflict', async () => {
      const created = await coordination.createNamespacedLease({ namespace: NS, body: lease('leader', 'a') });
      expect(created.metadata!.generation).toBeUndefined();
      const renewed = await coordination.replaceNamespacedLease({
        name: 'leader',
        namespace: NS,
        body: { ...created, spec: { ...created.spec, renewTime: new V1MicroTime() } },
      });
      expect(Number(renewed.metadata!.resourceVersion)).toBeGreaterThan(
        Number(created.metadata!.resourceVersion),
      );
      expect(String(renewed.spec!.renewTime)).toMatch(/\.\d{6}Z$/);
      const stale = await apiError(
        coordination.replaceNamespacedLease({
          name: 'leader',
          namespace: NS,
          body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } },
        }),
      );
      expect(stale).toEqual({
        code: 409,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message:
            'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has been modified; please apply your changes to the latest version and try again',
          reason: 'Conflict',
          details: { name: 'leader', group: 'coordination.k8s.io', kind: 'leases' },
          code: 409,
        },
      });
    });

    it('should refuse an unconditional lease update, create on update, and reject a millisecond renewTime', async () => {
      const created = await coordination.createNamespacedLease({ namespace: NS, body: lease('l2', 'a') });
      const unconditional = await apiError(
        coordination.replaceNamespacedLease({
          name: 'l2',
          namespace: NS,
          body: { ...created, metadata: { ...created.metadata, resourceVersion: undefined } },
        }),
      );
      expect(unconditional.code).toBe(422);
      expect(unconditional.body['message']).toBe(
        'leases.coordination.k8s.io "l2" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update',
      );
      await expect(
        coordination.replaceNamespacedLease({ name: 'fresh', namespace: NS, body: lease('fresh', 'a') }),
      ).resolves.toMatchObject({ metadata: { name: 'fresh' } });
      expect(fake.requests.at(-1)!.status).toBe(201);
      // A plain Date serializes with milliseconds; metav1.MicroTime wants six digits.
      const body = lease('millis', 'a');
      body.spec!.renewTime = new Date();
      const millis = await apiError(coordination.createNamespacedLease({ namespace: NS, body }));
      expect(millis.code).toBe(400);
      expect(millis.body['message']).toContain('cannot be handled as a Lease: parsing time');
    });

    it('should apply a JSON patch, client-node’s default patch type', async () => {
      await coordination.createNamespacedLease({ namespace: NS, body: lease('patched', 'a') });
      const patched = await coordination.patchNamespacedLease({
        name: 'patched',
        namespace: NS,
        body: [{ op: 'replace', path: '/spec/holderIdentity', value: 'b' }],
      });
      expect(patched.spec!.holderIdentity).toBe('b');
      expect(fake.requests.at(-1)!.headers['content-type']).toBe('application/json-patch+json');
    });
  });

  describe('deletion', () => {
    it('should delete Foreground: the Job marked, its pods deleted, then the Job', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('fg') });
      fake.runPod(NS, 'fg');
      const rv = fake.resourceVersion();
      const jobs = await watch(`/apis/batch/v1/namespaces/${NS}/jobs`, { resourceVersion: rv });
      const pods = await watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: rv });
      const response = await batch.deleteNamespacedJob({
        name: 'fg',
        namespace: NS,
        propagationPolicy: 'Foreground',
      });
      // The Job still exists, so the answer is the Job, not a Status (client-node reads it as one).
      expect(response.kind).toBe('Job');
      // client-node 1.4 sends the policy as a query parameter, with no body.
      expect(fake.requests.at(-1)).toMatchObject({
        method: 'DELETE',
        path: `/apis/batch/v1/namespaces/${NS}/jobs/fg`,
        query: { propagationPolicy: 'Foreground' },
        body: undefined,
        status: 200,
      });
      await jobs.until((events) => events.some((event) => event.type === 'DELETED'), 'the Job DELETED');
      expect(jobs.events.map((event) => event.type)).toEqual(['MODIFIED', 'DELETED']);
      expect(jobs.events[0]!.object.metadata).toMatchObject({
        deletionTimestamp: expect.any(String),
        finalizers: ['foregroundDeletion'],
      });
      // The running pod is stopped by its kubelet (graceful deletion), then removed.
      expect(pods.summary().map((line) => line.split(' ')[0])).toEqual(['MODIFIED', 'MODIFIED', 'DELETED']);
      const podGone = Number(pods.events.at(-1)!.object.metadata!.resourceVersion);
      expect(podGone).toBeLessThan(Number(jobs.events[1]!.object.metadata!.resourceVersion));
    });

    it('should delete Background: the Job at once (a Status answer), then its pods', async () => {
      const created = await batch.createNamespacedJob({ namespace: NS, body: job('bg') });
      const response = await batch.deleteNamespacedJob({
        name: 'bg',
        namespace: NS,
        propagationPolicy: 'Background',
      });
      expect(response).toMatchObject({
        kind: 'Status',
        status: 'Success',
        details: { name: 'bg', group: 'batch', kind: 'jobs', uid: created.metadata!.uid },
      });
      expect(fake.job(NS, 'bg')).toBeUndefined();
      await fake.settled();
      expect(fake.pods(NS)).toHaveLength(0);
    });

    it('should orphan the pods when no policy is given, with the apiserver’s warning', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('legacy') });
      const response = await batch.deleteNamespacedJobWithHttpInfo({ name: 'legacy', namespace: NS });
      expect(response.headers['warning']).toContain(
        'child pods are preserved by default when jobs are deleted',
      );
      await fake.settled();
      expect(fake.job(NS, 'legacy')).toBeUndefined();
      const [pod] = fake.pods(NS);
      expect(pod!.metadata!.ownerReferences).toEqual([]);
    });

    it('should take the policy from a DeleteOptions body, which wins over the query', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('body') });
      await batch.deleteNamespacedJob({
        name: 'body',
        namespace: NS,
        propagationPolicy: 'Orphan',
        body: { propagationPolicy: 'Background' },
      });
      expect(fake.requests.at(-1)!.body).toEqual({ propagationPolicy: 'Background' });
      await fake.settled();
      expect(fake.pods(NS)).toHaveLength(0);
    });
  });

  describe('the cluster scenarios', () => {
    const read = async (name: string) => {
      const [pod] = fake.podsOfJob(NS, name);
      return {
        pod: await core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: NS }),
        job: await batch.readNamespacedJob({ name, namespace: NS }),
      };
    };

    it('should leave an unschedulable pod Pending with PodScheduled=False', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('big') });
      fake.schedulePodFailure(NS, 'big', '0/3 nodes are available: 3 Insufficient memory.');
      const { pod } = await read('big');
      expect(pod.status!.phase).toBe('Pending');
      expect(pod.status!.conditions).toEqual([
        expect.objectContaining({
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient memory.',
          lastTransitionTime: expect.any(Date),
        }),
      ]);
    });

    it('should show a failed image pull as ImagePullBackOff on a scheduled, pending pod', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('pull') });
      fake.imagePullFailure(NS, 'pull');
      const { pod } = await read('pull');
      expect(pod.spec!.nodeName).toBeDefined();
      expect(pod.status!.phase).toBe('Pending');
      expect(pod.status!.containerStatuses![0]).toMatchObject({
        name: 'agent',
        ready: false,
        started: false,
        state: {
          waiting: {
            reason: 'ImagePullBackOff',
            message: 'Back-off pulling image "registry.example.com/agent:1.0.0"',
          },
        },
      });
    });

    it('should run and complete a pod, and complete the Job', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('ok') });
      fake.runPod(NS, 'ok');
      let state = await read('ok');
      expect(state.pod.status!.phase).toBe('Running');
      expect(state.pod.status!.containerStatuses![0]!.state!.running!.startedAt).toBeInstanceOf(Date);
      expect(state.job.status).toMatchObject({ active: 1, ready: 1 });
      fake.terminatePod(NS, 'ok', { exitCode: 0, reason: 'Completed' });
      state = await read('ok');
      expect(state.pod.status!.phase).toBe('Succeeded');
      expect(state.job.status).toMatchObject({ succeeded: 1 });
      expect(state.job.status!.active).toBeUndefined();
      expect(state.job.status!.completionTime).toBeInstanceOf(Date);
      expect(state.job.status!.conditions!.map((condition) => [condition.type, condition.status])).toEqual([
        ['SuccessCriteriaMet', 'True'],
        ['Complete', 'True'],
      ]);
    });

    it('should show an OOM kill on the container and fail the Job on its backoff limit', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('oom') });
      fake.runPod(NS, 'oom');
      fake.terminatePod(NS, 'oom', { exitCode: 137, reason: 'OOMKilled' });
      const { pod, job: failed } = await read('oom');
      expect(pod.status!.phase).toBe('Failed');
      expect(pod.status!.containerStatuses![0]!.state!.terminated).toMatchObject({
        exitCode: 137,
        reason: 'OOMKilled',
      });
      expect(failed.status).toMatchObject({ failed: 1 });
      expect(failed.status!.conditions).toEqual([
        expect.objectContaining({ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded' }),
        expect.objectContaining({
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        }),
      ]);
    });

    it('should stop the pod of a Job past its deadline and fail the Job with DeadlineExceeded', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('slow') });
      fake.runPod(NS, 'slow');
      const log = await watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: fake.resourceVersion() });
      fake.exceedDeadline(NS, 'slow');
      await log.until((events) => events.some((event) => event.type === 'DELETED'), 'the pod DELETED');
      await fake.settled();
      const failed = await batch.readNamespacedJob({ name: 'slow', namespace: NS });
      expect(failed.status!.conditions!.map((condition) => [condition.type, condition.reason])).toEqual([
        ['FailureTarget', 'DeadlineExceeded'],
        ['Failed', 'DeadlineExceeded'],
      ]);
      expect(failed.status!.conditions![1]!.message).toBe('Job was active longer than specified deadline');
      expect(fake.podsOfJob(NS, 'slow')).toHaveLength(0);
    });

    it('should show an eviction as a Failed pod with DisruptionTarget, and fail the Job', async () => {
      await batch.createNamespacedJob({ namespace: NS, body: job('evicted') });
      fake.runPod(NS, 'evicted');
      fake.evictPod(NS, 'evicted');
      const { pod, job: failed } = await read('evicted');
      expect(pod.status).toMatchObject({ phase: 'Failed', reason: 'Evicted' });
      expect(pod.status!.message).toMatch(/^The node was low on resource: memory\./);
      expect(pod.status!.conditions).toContainEqual(
        expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' }),
      );
      expect(failed.status!.conditions!.at(-1)).toMatchObject({
        type: 'Failed',
        reason: 'BackoffLimitExceeded',
      });
    });

    it('should call onJobCreated once the Job and its pod exist', async () => {
      const seen = new Promise<{ job: string; pods: number }>((resolve) => {
        fake.onJobCreated((created) =>
          resolve({ job: created.metadata!.name!, pods: fake.podsOfJob(NS, created.metadata!.name!).length }),
        );
      });
      await batch.createNamespacedJob({ namespace: NS, body: job('hooked') });
      await expect(seen).resolves.toEqual({ job: 'hooked', pods: 1 });
    });
  });

  describe('the edges of the API', () => {
    it('should answer 401 Unauthorized without the bearer token', async () => {
      const anonymous = new KubeConfig();
      anonymous.loadFromOptions({
        clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
        users: [{ name: 'anonymous' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'anonymous' }],
        currentContext: 'fake',
      });
      const error = await apiError(anonymous.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: NS }));
      expect(error.code).toBe(401);
      const raw = await fetch(`${fake.url}/apis/batch/v1/namespaces/${NS}/jobs`);
      expect(raw.status).toBe(401);
      expect(await raw.json()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    });

    it('should answer unknown paths with 404 and unsupported methods with 405', async () => {
      const headers = { Authorization: 'Bearer secret-token' };
      const unknown = await fetch(`${fake.url}/apis/apps/v1/namespaces/${NS}/deployments`, { headers });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      });
      const method = await fetch(`${fake.url}/apis/batch/v1/jobs`, { method: 'POST', headers, body: '{}' });
      expect(method.status).toBe(405);
      expect(await method.json()).toMatchObject({ reason: 'MethodNotAllowed' });
    });

    it('should fail the next matching request once with an injected error', async () => {
      fake.failNext('GET', /\/jobs$/, 503);
      const error = await apiError(batch.listNamespacedJob({ namespace: NS }));
      expect(error).toMatchObject({ code: 503, body: { reason: 'ServiceUnavailable', code: 503 } });
      await expect(batch.listNamespacedJob({ namespace: NS })).resolves.toMatchObject({ items: [] });
    });
  });
});
