import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import {
  jobIdOf,
  TASK_API_PREFIX,
  TASK_API_ROUTES,
  TASK_API_WARM_WAIT_MS,
  taskQueueName,
  WARM_POD_ROUTES,
  type TaskJob,
} from '@hangar/contracts';
import {
  ApprovalRepository,
  AttemptTokenRepository,
  ConversationRepository,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  hashAttemptToken,
  newAttemptToken,
  ProfileRepository,
  ProjectRepository,
  TaskRepository,
  WarmPodRepository,
  type PrismaClient,
} from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { METRICS_REGISTRY } from '@hangar/observability';
import { createRedis, TaskEventStream } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { AgentSandbox } from '../src/modules/sandbox/agent-sandbox';
import { ApprovalGate } from '../src/modules/endpoints/approval-gate';
import { RunnerEndpoints } from '../src/modules/endpoints/runner-endpoints.server';
import { AppModule } from '../src/app.module';
import { AgentRunnerConfigSchema, type AgentRunnerConfig } from '../src/config';
import { KubernetesExecutor, taskJobSettings } from '../src/modules/kubernetes/kubernetes-executor.service';
import { buildTaskJob, taskJobName } from '../src/modules/kubernetes/task-job';
import { startFakeKubeApi, type FakeKubeApi } from '@hangar/testing/kubernetes';

// The kubernetes executor against a faithful fake of the Kubernetes API (@hangar/testing), with
// real PostgreSQL and Redis. The test plays the kubelet and the pods' run-task.js: it sets pod
// and Job statuses as they would, and claims and finishes tasks as the pod's run does (through
// the repositories: the task API itself has its own spec, task-api.spec.ts).
const NAMESPACE = 'hangar-tasks';

describe('kubernetes executor', () => {
  const prefix = uniqueRedisPrefix('kube-executor');
  const redis = createRedis(redisUrl());
  const queueConnection = createRedis(redisUrl());
  const stream = new TaskEventStream(redis, { prefix });
  let database: TestDatabase;
  let prisma: PrismaClient;
  let tasks: TaskRepository;
  // The states the tests start from, written as a runner or pod would have.
  let state: TaskStateStore;
  let tokens: AttemptTokenRepository;
  let queue: Queue<TaskJob>;
  let fake: FakeKubeApi;
  let dir: string;
  let kubeconfig: string;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('kube-executor');
    prisma = createPrismaClient(database.url);
    tasks = new TaskRepository(prisma);
    state = new TaskStateStore(prisma);
    tokens = new AttemptTokenRepository(prisma);
    queue = new Queue<TaskJob>(taskQueueName({ pool: 'default' }), {
      connection: queueConnection,
      prefix: `${prefix}:queue`,
    });
    fake = await startFakeKubeApi({ token: 'controller-token' });
    dir = await mkdtemp(path.join(tmpdir(), 'hangar-kube-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await queue.obliterate({ force: true });
    await prisma.task.deleteMany({});
    fake.reset();
  });

  afterAll(async () => {
    await queue.close();
    await queueConnection.quit();
    await fake.close();
    await prisma.$disconnect();
    await redis.quit();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  function configFor(overrides: Record<string, string> = {}): AgentRunnerConfig {
    return AgentRunnerConfigSchema.parse({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl(),
      HANGAR_REDIS_PREFIX: prefix,
      SCRIPTED_MODEL_URL: 'http://127.0.0.1:4010',
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_KUBECONFIG: kubeconfig,
      RUNNER_JOB_NAMESPACE: NAMESPACE,
      RUNNER_JOB_IMAGE: 'registry.example.com/hangar/agent-runner:1.2.3',
      RUNNER_TASK_API_URL: 'http://hangar-agent-runner.hangar.svc:4011',
      // The endpoints on any free port: test files run side by side.
      RUNNER_TASK_API_PORT: '0',
      ANTHROPIC_API_KEY: 'sk-ant-only-the-controller-holds-it',
      RUNNER_JOB_RUNTIME_CLASS: 'gvisor',
      RUNNER_JOB_TTL_SECONDS: '600',
      RUNNER_ID: 'controller-a',
      RUNNER_LEASE_DURATION_SECONDS: '2',
      RUNNER_LEASE_RETRY_MS: '100',
      RUNNER_JOB_RESYNC_MS: '300',
      RUNNER_JOB_REQUEUE_DELAY_MS: '100',
      RUNNER_JOB_PENDING_TIMEOUT_SECONDS: '0',
      TASK_MAX_ATTEMPTS: '2',
      LOG_LEVEL: 'silent',
      ...overrides,
    });
  }

  async function startController(overrides: Record<string, string> = {}) {
    const config = configFor(overrides);
    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot(config, AgentSandbox.forRunner(config)),
      { logger: false },
    );
    await app.init();
    apps.push(app);
    return { app, config, executor: app.get(KubernetesExecutor) };
  }

  async function stopController(app: INestApplicationContext) {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  }

  async function leading(executor: KubernetesExecutor) {
    await until(() => executor.isLeader, 'the controller to lead');
  }

  // What the orchestrator does for a task: enqueue its next attempt (job id = task id + attempt).
  async function submit(
    prompt: string,
    projectId = DEFAULT_PROJECT_ID,
    timeoutSeconds = 900,
    profile?: string,
  ) {
    const task = await state.create({ projectId, prompt, timeoutSeconds, ...(profile ? { profile } : {}) });
    await queue.add(
      'run',
      { taskId: task.id, attempt: task.attempts + 1 },
      { jobId: jobIdOf(task.id, task.attempts + 1) },
    );
    return task;
  }

  async function jobOf(taskId: string, attempt = 1): Promise<V1Job> {
    const name = taskJobName(taskId, attempt);
    await until(() => fake.job(NAMESPACE, name) !== undefined, `Job ${name}`);
    return fake.job(NAMESPACE, name)!;
  }

  // The attempt's token, as the kubelet mounts it from the Job's Secret.
  async function tokenOf(job: V1Job): Promise<string> {
    const secret = await fake.whenExists('secrets', NAMESPACE, job.metadata!.name!);
    return Buffer.from(secret.data!['token']!, 'base64').toString('utf8');
  }

  // What run-task.js does in the Job's pod when it starts: claim the attempt as the Job's name.
  async function podClaims(taskId: string, attempt = 1) {
    const claimed = await state.claim(taskId, taskJobName(taskId, attempt), '/workspace', attempt);
    expect(claimed?.status).toBe('RUNNING');
  }

  async function statusOf(taskId: string, status: string) {
    await until(async () => (await tasks.get(taskId)).status === status, `task ${taskId} ${status}`);
    return tasks.get(taskId);
  }

  it('should create one Job per task attempt with exactly the spec it builds, locked down', async () => {
    const { executor, config } = await startController();
    await leading(executor);
    const task = await submit('hello from kubernetes', DEFAULT_PROJECT_ID, 1200);
    const job = await jobOf(task.id);

    const created = fake.requests.filter(
      (request) => request.method === 'POST' && request.path.endsWith('/jobs'),
    );
    expect(created).toHaveLength(1);
    const expected = buildTaskJob(
      { id: task.id, projectId: DEFAULT_PROJECT_ID, attempt: 1, timeoutSeconds: 1200, conversationId: null },
      taskJobSettings(config),
    );
    // What went over the wire is the Job built, serialized by the official client.
    expect(created[0]!.body).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(created[0]!.headers['authorization']).toBe('Bearer controller-token');
    expect(job.metadata?.name).toBe(`hangar-task-${task.id}-1`);
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 1200,
      ttlSecondsAfterFinished: 600,
    });
    const pod = job.spec!.template.spec!;
    expect(pod).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      runtimeClassName: 'gvisor',
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    });
    const container = pod.containers[0]!;
    expect(container.image).toBe('registry.example.com/hangar/agent-runner:1.2.3');
    expect(container.command).toEqual(['node', 'services/agent-runner/dist/run-task.js', task.id]);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '2Gi' },
    });
    // Where the task API is and where the token is; no secret, no database, Redis or model.
    expect(container.env).toEqual([
      { name: 'LOG_LEVEL', value: 'silent' },
      { name: 'HEARTBEAT_INTERVAL_MS', value: '5000' },
      { name: 'RUNNER_MAX_OUTPUT_BYTES', value: String(10 * 1024 * 1024) },
      { name: 'RUNNER_MAX_EVENT_BYTES', value: String(1024 * 1024) },
      { name: 'HANGAR_TASK_ATTEMPT', value: '1' },
      { name: 'RUNNER_TASK_API_URL', value: 'http://hangar-agent-runner.hangar.svc:4011' },
      { name: 'HANGAR_TASK_TOKEN_FILE', value: '/var/run/secrets/hangar/task/token' },
      { name: 'WORKSPACE_ROOT', value: '/workspace' },
      { name: 'RUNNER_HOME_ROOT', value: '/home/agent' },
    ]);
    const spec = JSON.stringify(job);
    for (const secret of [
      database.url,
      redisUrl(),
      'postgres',
      'redis://',
      'sk-ant-',
      'hga_',
      'http://127.0.0.1:4010',
    ])
      expect(spec).not.toContain(secret);
    // One Secret volume: the Job's own, holding the token; no other Secret is mounted.
    expect(pod.volumes?.filter((volume) => volume.secret)).toEqual([
      {
        name: 'task-token',
        secret: {
          secretName: job.metadata!.name,
          defaultMode: 0o400,
          items: [{ key: 'token', path: 'token' }],
        },
      },
    ]);
    expect(container.volumeMounts).toContainEqual({
      name: 'task-token',
      mountPath: '/var/run/secrets/hangar/task',
      readOnly: true,
    });

    // The Secret: made after the Job, owned by it, holding a token of exactly this attempt.
    const token = await tokenOf(job);
    const secret = fake.secret(NAMESPACE, job.metadata!.name!)!;
    expect(secret.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: job.metadata!.name,
        uid: job.metadata!.uid,
        blockOwnerDeletion: false,
      },
    ]);
    expect(secret).toMatchObject({ type: 'Opaque', immutable: true });
    expect(Object.keys(secret.data!)).toEqual(['token']);
    const creates = fake.requests
      .filter((request) => request.method === 'POST' && !request.path.includes('/leases'))
      .map((request) => request.path);
    expect(creates).toEqual([
      `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`,
      `/api/v1/namespaces/${NAMESPACE}/secrets`,
    ]);
    const check = await tokens.check(token, { claimable: true });
    expect(check).toMatchObject({ ok: true, grant: { taskId: task.id, attempt: 1, provider: 'claude' } });
    // The task waits for its pod to claim it: the controller does not touch its state.
    expect((await tasks.get(task.id)).status).toBe('QUEUED');

    // Deleting the Job takes its Secret along (the garbage collector, by the owner reference),
    // and the controller, ending the attempt, revokes the token.
    await fake.kubeConfig().makeApiClient(BatchV1Api).deleteNamespacedJob({
      name: job.metadata!.name!,
      namespace: NAMESPACE,
      propagationPolicy: 'Background',
    });
    expect((await statusOf(task.id, 'FAILED')).error).toMatch(/^job-deleted:/);
    await fake.settled();
    expect(fake.secret(NAMESPACE, job.metadata!.name!)).toBeUndefined();
    expect(await tokens.check(token, { claimable: true })).toEqual({ ok: false, refusal: 'revoked' });
  });

  it("should size a task's pod by its profile's resources over the defaults", async () => {
    const profile = await new ProfileRepository(prisma).create(DEFAULT_PROJECT_ID, {
      name: `big-${Date.now()}`,
      provider: 'claude',
      resources: { requests: { cpu: '2' }, limits: { memory: '8Gi', 'nvidia.com/gpu': '1' } },
    });
    expect(profile.resources).toEqual({
      requests: { cpu: '2' },
      limits: { memory: '8Gi', 'nvidia.com/gpu': '1' },
    });
    const { executor } = await startController();
    await leading(executor);
    const task = await submit('needs a GPU', DEFAULT_PROJECT_ID, 900, profile.name);
    const job = await jobOf(task.id);
    expect(job.spec?.template.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: '2', memory: '1Gi' },
      limits: { memory: '8Gi', 'nvidia.com/gpu': '1' },
    });
  });

  it("should push a Job's deadline back by the time its agent waited for approvals", async () => {
    const profiles = new ProfileRepository(prisma);
    const profile = await profiles.create(DEFAULT_PROJECT_ID, {
      name: `gated-${Date.now()}`,
      provider: 'claude',
      approvals: { tools: ['Bash(git push:*)'], timeoutSeconds: 60 },
    });
    const { app, executor } = await startController();
    await leading(executor);
    const task = await submit('push it', DEFAULT_PROJECT_ID, 900, profile.name);
    const job = await jobOf(task.id);
    expect(job.spec?.activeDeadlineSeconds).toBe(900);
    // What run-task.js does in the pod, then its agent's permission prompt (over the runner's
    // MCP endpoint, with the attempt's token).
    await state.claim(task.id, taskJobName(task.id, 1), '/workspace', 1, 'pod');
    const access = await tokens.check(await tokenOf(job));
    if (!access.ok) throw new Error(`the attempt's token is refused: ${access.refusal}`);
    const asking = app
      .get(ApprovalGate)
      .decide(
        access.grant,
        await profiles.ofTask(task.id),
        { tool_name: 'Bash', input: { command: 'git push origin main' }, tool_use_id: 'toolu_1' },
        { signal: new AbortController().signal, progress: () => Promise.resolve() },
      );
    const approvals = new ApprovalRepository(prisma);
    const pending = async () =>
      approvals.list({ projectIds: [DEFAULT_PROJECT_ID], taskId: task.id, status: 'pending', limit: 1 });
    await until(async () => (await pending()).length === 1, 'the approval');
    const [approval] = await pending();
    // A person takes a while to answer: time passing is what this test is about.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await approvals.answer(approval!.id, { decision: 'allow-once', message: null, by: 'ann@example.com' });
    expect(await asking).toEqual({ behavior: 'allow', updatedInput: { command: 'git push origin main' } });
    const waited = await approvals.waitedMs(task.id, 1);
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(fake.job(NAMESPACE, job.metadata!.name!)?.spec?.activeDeadlineSeconds).toBe(
      900 + Math.ceil(waited / 1000),
    );
    expect(
      fake.requests.some(
        (request) => request.method === 'PATCH' && request.path.endsWith(`/jobs/${job.metadata!.name!}`),
      ),
    ).toBe(true);
  });

  it("should keep a conversation's workspace on one claim across its turns, when claims are on", async () => {
    const { executor } = await startController({
      RUNNER_JOB_CONVERSATION_CLAIMS: 'true',
      RUNNER_JOB_CONVERSATION_STORAGE_CLASS: 'fast-ssd',
      RUNNER_JOB_CONVERSATION_STORAGE_SIZE: '10Gi',
    });
    await leading(executor);
    const conversation = await new ConversationRepository(prisma).create(DEFAULT_PROJECT_ID, {
      title: 'chat',
    });
    const claimName = `hangar-conversation-${conversation.id}`;
    for (const turn of [1, 2]) {
      const task = await state.create({
        projectId: DEFAULT_PROJECT_ID,
        prompt: `turn ${turn}`,
        conversationId: conversation.id,
      });
      await queue.add('run', { taskId: task.id, attempt: 1 }, { jobId: `${task.id}-a1` });
      const job = await jobOf(task.id);
      expect(job.spec?.template.spec?.volumes).toEqual(
        expect.arrayContaining([{ name: 'workspace', persistentVolumeClaim: { claimName } }]),
      );
      // The turn ends as its pod would end it, so the next one may start.
      fake.runPod(NAMESPACE, job.metadata!.name!);
      await podClaims(task.id);
      await state.finish(task.id, job.metadata!.name!, { status: 'COMPLETED', result: 'ok' });
      fake.terminatePod(NAMESPACE, job.metadata!.name!, { exitCode: 0, reason: 'Completed' });
    }
    const claims = fake.claims(NAMESPACE);
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({
      metadata: { name: claimName, labels: { 'hangar.dev/conversation': conversation.id } },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'fast-ssd',
        resources: { requests: { storage: '10Gi' } },
      },
    });
    // The second turn found the claim (409) rather than making another.
    const creates = fake.requests.filter(
      (request) => request.method === 'POST' && request.path.endsWith('/persistentvolumeclaims'),
    );
    expect(creates.map((request) => request.status)).toEqual([201, 409]);
  });

  it("should fail a task that must work in an earlier task's workspace before making its Job, naming the limit", async () => {
    const { executor } = await startController();
    await leading(executor);
    const earlier = await submit('the earlier step');
    await jobOf(earlier.id);
    const later = await state.create({
      projectId: DEFAULT_PROJECT_ID,
      prompt: 'the later step',
      workspaceOf: earlier.id,
    });
    await queue.add('run', { taskId: later.id, attempt: 1 }, { jobId: jobIdOf(later.id, 1) });
    const failed = await statusOf(later.id, 'FAILED');
    expect(failed.error).toBe(
      `workspace: task ${later.id} must work in the workspace of task ${earlier.id}, but the kubernetes executor gives each task pod a workspace of its own that goes with the pod: shared workspaces need RUNNER_EXECUTOR=process`,
    );
    expect(failed.attempts).toBe(0);
    expect(fake.job(NAMESPACE, taskJobName(later.id, 1))).toBeUndefined();
    expect(fake.job(NAMESPACE, taskJobName(earlier.id, 1))).toBeDefined();
  });

  describe('what the cluster reports, mapped onto the task', () => {
    it('should fail a task whose pod no node can take, and delete its Job', async () => {
      const { executor } = await startController();
      await leading(executor);
      const task = await submit('too big');
      const job = await jobOf(task.id);
      fake.schedulePodFailure(
        NAMESPACE,
        job.metadata!.name!,
        '0/3 nodes are available: 3 Insufficient memory.',
      );
      const failed = await statusOf(task.id, 'FAILED');
      expect(failed.error).toMatch(
        /^unschedulable: no node could run the pod for 0s: 0\/3 nodes are available/,
      );
      await until(() => fake.job(NAMESPACE, job.metadata!.name!) === undefined, 'the Job deleted');
      expect(await statusEvents(task.id)).toEqual([{ status: 'FAILED', reason: failed.error }]);
    });

    it('should fail a task whose image cannot be pulled', async () => {
      const { executor } = await startController();
      await leading(executor);
      const task = await submit('bad image');
      const job = await jobOf(task.id);
      fake.imagePullFailure(NAMESPACE, job.metadata!.name!);
      const failed = await statusOf(task.id, 'FAILED');
      expect(failed.error).toMatch(
        /^image-pull: the image registry.example.com\/hangar\/agent-runner:1.2.3 cannot be pulled \(ImagePullBackOff/,
      );
      await until(() => fake.job(NAMESPACE, job.metadata!.name!) === undefined, 'the Job deleted');
    });

    it('should fail a task whose agent ran out of memory', async () => {
      const { executor } = await startController();
      await leading(executor);
      const task = await submit('memory hog');
      const job = await jobOf(task.id);
      const token = await tokenOf(job);
      fake.runPod(NAMESPACE, job.metadata!.name!);
      await podClaims(task.id);
      expect((await tokens.check(token)).ok).toBe(true);
      fake.terminatePod(NAMESPACE, job.metadata!.name!, { exitCode: 137, reason: 'OOMKilled' });
      const failed = await statusOf(task.id, 'FAILED');
      expect(failed.error).toBe(
        "oom-killed: the agent's container used more memory than its limit (2Gi) and was killed (attempt 1 of 2)",
      );
      // The pod died with its token: revoked by the controller, whatever the pod could not do.
      expect(await tokens.check(token)).toEqual({ ok: false, refusal: 'revoked' });
    });

    it('should fail a task whose Job ran past its deadline', async () => {
      const { executor } = await startController();
      await leading(executor);
      const task = await submit('slow', DEFAULT_PROJECT_ID, 60);
      const job = await jobOf(task.id);
      fake.runPod(NAMESPACE, job.metadata!.name!);
      await podClaims(task.id);
      fake.exceedDeadline(NAMESPACE, job.metadata!.name!);
      const failed = await statusOf(task.id, 'FAILED');
      expect(failed.error).toBe(
        'deadline-exceeded: the Job ran longer than its deadline (60s) and was stopped (attempt 1 of 2)',
      );
    });

    it('should retry a task whose pod was evicted while it has attempts left, then fail it', async () => {
      const { executor } = await startController();
      await leading(executor);
      const task = await submit('evicted');
      const first = await jobOf(task.id);
      fake.runPod(NAMESPACE, first.metadata!.name!);
      await podClaims(task.id);
      fake.evictPod(NAMESPACE, first.metadata!.name!);
      const requeued = await statusOf(task.id, 'QUEUED');
      expect(requeued.attempts).toBe(1);
      expect(requeued.error).toMatch(
        /^evicted: the pod was evicted: The node was low on resource: memory.*\(attempt 1 of 2\)$/,
      );

      // The orchestrator's reconciler enqueues the next attempt; it gets its own Job.
      await queue.add('run', { taskId: task.id, attempt: 2 }, { jobId: `${task.id}-a2` });
      const second = await jobOf(task.id, 2);
      fake.runPod(NAMESPACE, second.metadata!.name!);
      await podClaims(task.id, 2);
      fake.evictPod(NAMESPACE, second.metadata!.name!);
      const failed = await statusOf(task.id, 'FAILED');
      expect(failed.error).toMatch(/^evicted: .*\(attempt 2 of 2\)$/);
    });

    it('should fail a task whose Job someone deleted', async () => {
      const { executor } = await startController();
      await leading(executor);
      const task = await submit('deleted under it');
      const job = await jobOf(task.id);
      fake.runPod(NAMESPACE, job.metadata!.name!);
      await podClaims(task.id);
      await fake.kubeConfig().makeApiClient(BatchV1Api).deleteNamespacedJob({
        name: job.metadata!.name!,
        namespace: NAMESPACE,
        propagationPolicy: 'Background',
      });
      const failed = await statusOf(task.id, 'FAILED');
      expect(failed.error).toBe(
        `job-deleted: the Job ${job.metadata!.name} was deleted before its task finished (attempt 1 of 2)`,
      );
    });

    it('should leave a task its pod finished alone', async () => {
      const { executor } = await startController();
      await leading(executor);
      const task = await submit('fine');
      const job = await jobOf(task.id);
      fake.runPod(NAMESPACE, job.metadata!.name!);
      await podClaims(task.id);
      await state.finish(task.id, job.metadata!.name!, { status: 'COMPLETED', result: 'done' });
      fake.terminatePod(NAMESPACE, job.metadata!.name!, { exitCode: 0, reason: 'Completed' });
      await executor.resync();
      expect(await tasks.get(task.id)).toMatchObject({ status: 'COMPLETED', result: 'done', error: null });
      expect(fake.job(NAMESPACE, job.metadata!.name!)).toBeDefined();
    });
  });

  it('should delete the Job of a cancelled task, and record the cancellation', async () => {
    const { executor } = await startController();
    await leading(executor);
    const task = await submit('to cancel');
    const job = await jobOf(task.id);
    fake.runPod(NAMESPACE, job.metadata!.name!);
    await podClaims(task.id);
    await state.requestCancel(task.id);
    await executor.cancel(task.id);
    const cancelled = await statusOf(task.id, 'CANCELLED');
    expect(cancelled.error).toBe('cancelled: stopped on request');
    expect(fake.job(NAMESPACE, job.metadata!.name!)).toBeUndefined();
    const deletion = fake.requests.find((request) => request.method === 'DELETE');
    expect(deletion?.path).toBe(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${job.metadata!.name}`);
    expect(JSON.stringify(deletion)).toContain('Foreground');
  });

  it('should adopt the Jobs it finds on restart instead of making them again', async () => {
    const first = await startController();
    await leading(first.executor);
    const running = await submit('running across the restart');
    const runningJob = await jobOf(running.id);
    fake.runPod(NAMESPACE, runningJob.metadata!.name!);
    await podClaims(running.id);
    // The API refuses its Secret once: the Job's reconcile makes it after all.
    fake.failNext('POST', /\/secrets$/, 503);
    const starting = await submit('not started yet');
    const startingJob = await jobOf(starting.id);
    const firstToken = await tokenOf(startingJob);
    await stopController(first.app);

    // While no controller runs, one pod is OOM-killed and the other Job's Secret goes missing.
    fake.terminatePod(NAMESPACE, runningJob.metadata!.name!, { exitCode: 137, reason: 'OOMKilled' });
    await fake.kubeConfig().makeApiClient(CoreV1Api).deleteNamespacedSecret({
      name: startingJob.metadata!.name!,
      namespace: NAMESPACE,
    });
    const second = await startController({ RUNNER_ID: 'controller-b' });
    await leading(second.executor);
    // The new leader gives the waiting pod its token again, in a Secret owned by the same Job.
    const secondToken = await tokenOf(startingJob);
    expect(secondToken).not.toBe(firstToken);
    expect(fake.secret(NAMESPACE, startingJob.metadata!.name!)?.metadata?.ownerReferences?.[0]?.uid).toBe(
      startingJob.metadata!.uid,
    );
    expect(await tokens.check(secondToken, { claimable: true })).toMatchObject({ ok: true });
    // The orchestrator's reconciler enqueues the still-QUEUED task again.
    await queue.add('run', { taskId: starting.id, attempt: 1 }, { jobId: `${starting.id}-a1-again` });
    expect((await statusOf(running.id, 'FAILED')).error).toMatch(/^oom-killed:/);
    await until(
      async () => (await queue.getJobCounts('completed', 'wait', 'active', 'delayed')).wait === 0,
      'queue drained',
    );
    await until(async () => (await queue.getJobs(['active'])).length === 0, 'no active job');
    const posts = fake.requests.filter(
      (request) => request.method === 'POST' && request.path.endsWith('/jobs'),
    );
    expect(posts).toHaveLength(2);
    expect(
      fake
        .jobs(NAMESPACE)
        .map((job) => job.metadata?.name)
        .sort(),
    ).toEqual([taskJobName(running.id, 1), taskJobName(starting.id, 1)].sort());
  });

  it('should let exactly one of two replicas act, and hand over when it stops', async () => {
    const a = await startController({ RUNNER_ID: 'controller-a' });
    const b = await startController({ RUNNER_ID: 'controller-b' });
    await until(() => a.executor.isLeader || b.executor.isLeader, 'a leader');
    const [leader, follower] = a.executor.isLeader ? [a, b] : [b, a];
    expect(follower.executor.isLeader).toBe(false);
    const lease = fake
      .leases(NAMESPACE)
      .find((candidate) => candidate.metadata?.name === 'hangar-agent-runner');
    expect(lease?.spec?.holderIdentity).toBe(leader.config.RUNNER_ID);

    const one = await submit('one');
    await jobOf(one.id);
    // Renewals go on; the follower never acts.
    await until(() => leaseRenewals(leader.config.RUNNER_ID) >= 3, 'three renewals');
    expect(follower.executor.isLeader).toBe(false);
    expect(follower.executor.jobs.list()).toHaveLength(0);

    await stopController(leader.app);
    await leading(follower.executor);
    expect(fake.leases(NAMESPACE)[0]?.spec?.holderIdentity).toBe(follower.config.RUNNER_ID);
    const two = await submit('two');
    await jobOf(two.id);
    expect(fake.jobs(NAMESPACE)).toHaveLength(2);
  });

  it('should relist when its watch resourceVersion has expired (410), and miss nothing', async () => {
    const { executor } = await startController();
    await leading(executor);
    const task = await submit('survives a compaction');
    const job = await jobOf(task.id);
    await until(() => executor.jobs.get(job.metadata!.name!) !== undefined, 'the Job in the cache');
    const lists = executor.jobs.lists;

    // The watch is cut, and meanwhile etcd compacts past the version the controller saw.
    fake.dropWatches();
    fake.runPod(NAMESPACE, job.metadata!.name!);
    await podClaims(task.id);
    fake.terminatePod(NAMESPACE, job.metadata!.name!, { exitCode: 137, reason: 'OOMKilled' });
    fake.compact();

    expect((await statusOf(task.id, 'FAILED')).error).toMatch(/^oom-killed:/);
    await until(() => executor.jobs.lists > lists, 'a relist');
    const watches = fake.requests.filter((request) => request.query['watch'] === 'true');
    expect(watches.length).toBeGreaterThan(0);
    for (const watch of watches) expect(watch.query['allowWatchBookmarks']).toBe('true');
  });

  it("should hold tasks in the queue beyond the cluster's Job cap (a project's cap is the orchestrator's)", async () => {
    const projects = new ProjectRepository(prisma);
    const other = await projects.create({ slug: `other-${Date.now()}`, name: 'Other' });
    const { executor } = await startController({ RUNNER_MAX_JOBS: '3' });
    await leading(executor);
    const peak = { total: 0 };
    fake.onJobCreated(() => {
      const active = fake
        .jobs(NAMESPACE)
        .filter((job) => !job.status?.conditions?.some((c) => c.status === 'True'));
      peak.total = Math.max(peak.total, active.length);
    });
    const submitted = [];
    for (let index = 0; index < 3; index += 1) submitted.push(await submit(`default ${index}`));
    for (let index = 0; index < 2; index += 1) submitted.push(await submit(`other ${index}`, other.id));

    await until(() => fake.jobs(NAMESPACE).length === 3, 'three Jobs');

    // Each Job that ends makes room for one more, until every task has run once.
    const done = new Set<string>();
    while (done.size < submitted.length) {
      await until(
        () => fake.jobs(NAMESPACE).some((job) => !done.has(job.metadata!.name!)),
        'a Job not finished yet',
      );
      const next = fake.jobs(NAMESPACE).find((job) => !done.has(job.metadata!.name!))!;
      const name = next.metadata!.name!;
      const taskId = next.metadata!.labels!['hangar.dev/task']!;
      fake.runPod(NAMESPACE, name);
      await podClaims(taskId);
      await state.finish(taskId, name, { status: 'COMPLETED', result: 'ok' });
      fake.terminatePod(NAMESPACE, name, { exitCode: 0, reason: 'Completed' });
      done.add(name);
    }
    expect(peak.total).toBe(3);
    for (const task of submitted) expect((await tasks.get(task.id)).status).toBe('COMPLETED');
  });

  it('should export running Jobs and leadership for autoscaling', async () => {
    const { app, executor } = await startController();
    await leading(executor);
    const task = await submit('measured');
    await jobOf(task.id);
    await until(() => executor.activeJobs().length === 1, 'one active Job');
    const registry = app.get<Registry>(METRICS_REGISTRY);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^hangar_runner_jobs_running(\{[^}]*\})? 1$/m);
    expect(metrics).toMatch(/^hangar_runner_leader(\{[^}]*\})? 1$/m);
    expect(metrics).toMatch(/^hangar_runner_jobs_max(\{[^}]*\})? 20$/m);
  });

  describe('warm Jobs', () => {
    const warmProfiles: string[] = [];
    let warmPods: WarmPodRepository;
    let profiles: ProfileRepository;

    beforeAll(() => {
      warmPods = new WarmPodRepository(prisma);
      profiles = new ProfileRepository(prisma);
    });

    const pods: AbortController[] = [];

    // Profiles outlive each test: none asks for warm pods after its test.
    afterEach(async () => {
      for (const pod of pods.splice(0)) pod.abort();
      for (const name of warmProfiles.splice(0)) await profiles.update(DEFAULT_PROJECT_ID, name, { warm: 0 });
    });

    async function warmProfile(warm = 1) {
      const profile = await profiles.create(DEFAULT_PROJECT_ID, {
        name: `warm-${Date.now()}-${warmProfiles.length}`,
        provider: 'claude',
        warm,
      });
      warmProfiles.push(profile.name);
      return { ...profile, id: await profiles.idOf(DEFAULT_PROJECT_ID, profile.name) };
    }

    function warmJobsOf(profileId: string): V1Job[] {
      return fake
        .jobs(NAMESPACE)
        .filter(
          (job) =>
            job.metadata?.labels?.['hangar.dev/warm-profile'] === profileId &&
            !job.metadata.labels['hangar.dev/task'] &&
            !job.metadata.deletionTimestamp,
        );
    }

    async function warmJob(profileId: string, other: string[] = [], timeoutMs?: number): Promise<V1Job> {
      await until(
        () => warmJobsOf(profileId).some((job) => !other.includes(job.metadata!.name!)),
        `a warm Job of profile ${profileId}`,
        timeoutMs,
      );
      return warmJobsOf(profileId).find((job) => !other.includes(job.metadata!.name!))!;
    }

    // The task API of the controller's replica, as a pod calls it.
    async function callApi(
      app: INestApplicationContext,
      route: string,
      token: string,
      body?: unknown,
      signal?: AbortSignal,
    ) {
      const [method, routePath] = route.split(' ') as [string, string];
      const response = await fetch(`${app.get(RunnerEndpoints).url}${TASK_API_PREFIX}${routePath}`, {
        method,
        ...(signal ? { signal } : {}),
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    }

    // What run-task.js --warm does: read its profile, start the CLI with a credential of its own
    // making, report ready and wait. Resolves once the controller counts the pod ready.
    async function podWaits(app: INestApplicationContext, job: V1Job) {
      const warmToken = await tokenOf(job);
      const profile = await callApi(app, WARM_POD_ROUTES.warmProfile, warmToken);
      expect(profile.status).toBe(200);
      const attemptToken = newAttemptToken();
      // The pod goes (its wait with it) when a test ends without an assignment.
      const going = new AbortController();
      pods.push(going);
      const assignment = callApi(
        app,
        WARM_POD_ROUTES.warmAssignment,
        warmToken,
        { attemptTokenHash: hashAttemptToken(attemptToken) },
        going.signal,
      );
      assignment.catch(() => undefined);
      await until(async () => (await warmPods.get(job.metadata!.name!))?.ready === true, 'the pod ready');
      return { warmToken, attemptToken, assignment, profile: profile.body['profile'] as { name: string } };
    }

    async function submitWith(profile: string, extra: { repository?: string } = {}) {
      const task = await state.create({
        projectId: DEFAULT_PROJECT_ID,
        prompt: 'warm or cold',
        profile,
        ...extra,
      });
      await queue.add('run', { taskId: task.id, attempt: 1 }, { jobId: jobIdOf(task.id, 1) });
      return task;
    }

    function warmOverrides() {
      return { RUNNER_JOB_WARM_MAX: '2' };
    }

    // A task of a warm profile, given to its ready warm pod (the Job labelled as the attempt's).
    async function givenToWarmPod() {
      const profile = await warmProfile();
      const { app, executor } = await startController(warmOverrides());
      await leading(executor);
      const job = await warmJob(profile.id);
      const name = job.metadata!.name!;
      fake.runPod(NAMESPACE, name);
      const pod = await podWaits(app, job);
      const task = await submitWith(profile.name);
      const answer = await pod.assignment;
      await until(
        () => fake.job(NAMESPACE, name)?.metadata?.labels?.['hangar.dev/task'] === task.id,
        "the warm Job labelled as the attempt's",
      );
      return { app, executor, profile, name, pod, task, answer };
    }

    async function podClaimsGiven(app: INestApplicationContext, token: string, taskId: string) {
      const claim = await callApi(app, TASK_API_ROUTES.claim, token, {
        taskId,
        attempt: 1,
        workspace: '/workspace/warm-1',
      });
      expect(claim.status).toBe(200);
    }

    it('should keep a warm Job for a profile that asks for one, locked down like a task Job and outside the Job cap', async () => {
      const profile = await warmProfile();
      const { app, executor, config } = await startController(warmOverrides());
      await leading(executor);
      const job = await warmJob(profile.id);

      const labels = job.metadata!.labels!;
      expect(labels['hangar.dev/warm-profile-version']).toBe(String(Date.parse(profile.updatedAt)));
      expect(labels['hangar.dev/task']).toBeUndefined();
      expect(job.spec?.template.metadata?.labels).toMatchObject(labels);
      // What the chart's NetworkPolicy selects task pods by (a warm pod has no task label).
      expect(labels).toMatchObject({
        'app.kubernetes.io/component': 'task',
        'app.kubernetes.io/managed-by': 'hangar-agent-runner',
      });
      const container = job.spec!.template.spec!.containers[0]!;
      expect(container.command).toEqual(['node', 'services/agent-runner/dist/run-task.js', '--warm']);
      expect(container.env?.map((env) => env.name)).not.toContain('HANGAR_TASK_ATTEMPT');
      // The same pod as a task's: only its command, labels and deadline differ.
      const cold = buildTaskJob(
        { id: 'x', projectId: DEFAULT_PROJECT_ID, attempt: 1, timeoutSeconds: 1, conversationId: null },
        taskJobSettings(config),
      );
      expect(job.spec!.template.spec!.securityContext).toEqual(cold.spec!.template.spec!.securityContext);
      expect(container.securityContext).toEqual(cold.spec!.template.spec!.containers[0]!.securityContext);
      expect(job.spec!.template.spec!.volumes).toEqual(
        cold.spec!.template.spec!.volumes!.map((volume) =>
          volume.secret
            ? { ...volume, secret: { ...volume.secret, secretName: job.metadata!.name } }
            : volume,
        ),
      );
      // Its Secret holds the pod's own credential, not an attempt's.
      expect(await tokenOf(job)).toMatch(/^hgw_/);

      // Waiting, it is not a running task Job.
      expect(executor.activeJobs()).toHaveLength(0);
      const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
      expect(metrics).toMatch(/^hangar_runner_warm_jobs\{state="starting"[^}]*\} 1$/m);
      expect(metrics).toMatch(/^hangar_runner_jobs_running(\{[^}]*\})? 0$/m);
      // One is asked for: one is kept, however many resyncs pass.
      await executor.resync();
      await executor.warm.settled();
      expect(warmJobsOf(profile.id)).toHaveLength(1);
    });

    it('should give a queued task to a ready warm pod instead of making it a Job, and run it as that Job', async () => {
      const { app, executor, profile, name, pod, task, answer } = await givenToWarmPod();
      expect(pod.profile.name).toBe(profile.name);
      expect(answer).toEqual({ status: 200, body: { assignment: { taskId: task.id, attempt: 1 } } });
      // No Job of its own: the warm Job is the attempt's, with its labels and the task's deadline.
      const assigned = fake.job(NAMESPACE, name)!;
      expect(assigned.metadata!.labels).toMatchObject({
        'hangar.dev/project': DEFAULT_PROJECT_ID,
        'hangar.dev/attempt': '1',
      });
      expect(assigned.spec?.activeDeadlineSeconds).toBeGreaterThanOrEqual(task.timeoutSeconds);
      expect(fake.job(NAMESPACE, taskJobName(task.id, 1))).toBeUndefined();
      await until(() => executor.activeJobs().length === 1, 'one active Job');
      expect(executor.activeJobs().map((active) => active.metadata?.name)).toEqual([name]);

      // The pod claims with the credential its CLI started with, now the attempt's, as its Job.
      await podClaimsGiven(app, pod.attemptToken, task.id);
      expect((await tasks.jobStates([task.id]))[0]).toMatchObject({ status: 'RUNNING', runnerId: name });
      const finish = await callApi(app, TASK_API_ROUTES.finish, pod.attemptToken, {
        status: 'COMPLETED',
        result: 'served warm',
      });
      expect(finish.status).toBe(200);
      expect((await tasks.get(task.id)).result).toBe('served warm');
      // Its credential ended with it; its own was good for waiting only and is gone too.
      expect((await callApi(app, TASK_API_ROUTES.heartbeat, pod.attemptToken, {})).status).toBe(401);
      fake.terminatePod(NAMESPACE, name, { exitCode: 0, reason: 'Completed' });
      await statusOf(task.id, 'COMPLETED');

      // Another takes its place; the hit is counted.
      await warmJob(profile.id, [name]);
      const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
      expect(metrics).toMatch(/^hangar_runner_warm_job_takes_total\{outcome="hit",reason=""[^}]*\} 1$/m);
    });

    it('should retire the warm Jobs of a profile that changed, and make new ones', async () => {
      const profile = await warmProfile();
      const { app, executor } = await startController(warmOverrides());
      await leading(executor);
      const old = await warmJob(profile.id);
      const oldToken = await tokenOf(old);
      const changed = await profiles.update(DEFAULT_PROJECT_ID, profile.name, {
        appendSystemPrompt: 'be brief',
      });

      const fresh = await warmJob(profile.id, [old.metadata!.name!]);
      expect(fresh.metadata!.labels!['hangar.dev/warm-profile-version']).toBe(
        String(Date.parse(changed.updatedAt)),
      );
      await until(() => fake.job(NAMESPACE, old.metadata!.name!) === undefined, 'the old warm Job deleted');
      // The old pod's credential is revoked with it.
      const refused = await callApi(app, WARM_POD_ROUTES.warmProfile, oldToken);
      expect(refused).toMatchObject({ status: 401, body: { code: 'revoked' } });
      const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
      expect(metrics).toMatch(/^hangar_runner_warm_jobs_retired_total\{reason="profile-changed"[^}]*\} 1$/m);

      // No longer asked for: none is kept.
      await profiles.update(DEFAULT_PROJECT_ID, profile.name, { warm: 0 });
      await until(() => warmJobsOf(profile.id).length === 0, 'no warm Job left');
    });

    it('should replace a warm pod that failed only after a wait, never in a loop', async () => {
      const profile = await warmProfile();
      const { app, executor } = await startController(warmOverrides());
      await leading(executor);
      const failing = await warmJob(profile.id);
      const name = failing.metadata!.name!;
      fake.runPod(NAMESPACE, name);
      fake.terminatePod(NAMESPACE, name, { exitCode: 1, reason: 'Error' });
      await until(() => fake.job(NAMESPACE, name) === undefined, 'the failed warm Job deleted');
      const failedAt = Date.now();
      // Passes come and go (every resync, every change): none makes another yet.
      for (let pass = 0; pass < 5; pass += 1) {
        await executor.resync();
        executor.warm.refresh();
        await executor.warm.settled();
        expect(warmJobsOf(profile.id)).toEqual([]);
      }
      const replacement = await warmJob(profile.id, [name], 15_000);
      expect(Date.now() - failedAt).toBeGreaterThanOrEqual(4000);
      expect(replacement.metadata!.name).not.toBe(name);
      // The fake stores a Job before its creator hears back; its Secret comes after the count.
      await tokenOf(replacement);
      const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
      expect(metrics).toMatch(/^hangar_runner_warm_jobs_retired_total\{reason="failed"[^}]*\} 1$/m);
      expect(metrics).toMatch(/^hangar_runner_warm_jobs_created_total(\{[^}]*\})? 2$/m);
    });

    it('should retire a warm pod that waited longer than the idle time, and make a fresh one', async () => {
      const profile = await warmProfile();
      const { app, executor } = await startController({ ...warmOverrides(), RUNNER_WARM_IDLE_SECONDS: '1' });
      await leading(executor);
      const old = await warmJob(profile.id);
      await warmJob(profile.id, [old.metadata!.name!]);
      await until(() => fake.job(NAMESPACE, old.metadata!.name!) === undefined, 'the idle warm Job deleted');
      const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
      expect(metrics).toMatch(/^hangar_runner_warm_jobs_retired_total\{reason="idle"[^}]*\} [1-9]/m);
    });

    it('should make a Job of its own for a task a warm pod cannot serve, counting why', async () => {
      const profile = await warmProfile();
      const { app, executor } = await startController(warmOverrides());
      await leading(executor);
      const job = await warmJob(profile.id);
      fake.runPod(NAMESPACE, job.metadata!.name!);
      await podWaits(app, job);

      const task = await submitWith(profile.name, { repository: 'https://github.com/example/repo.git' });
      await jobOf(task.id);
      // The warm pod still waits, unassigned.
      expect(fake.job(NAMESPACE, job.metadata!.name!)?.metadata?.labels?.['hangar.dev/task']).toBeUndefined();
      expect((await warmPods.get(job.metadata!.name!))?.assignment).toBeNull();
      const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
      expect(metrics).toMatch(
        /^hangar_runner_warm_job_takes_total\{outcome="miss",reason="repository"[^}]*\} 1$/m,
      );
    });

    it("should take a warm pod's own credential for nothing but waiting for an attempt", async () => {
      const profile = await warmProfile();
      const { app, executor } = await startController(warmOverrides());
      await leading(executor);
      const job = await warmJob(profile.id);
      const pod = await podWaits(app, job);
      await until(() => executor.warmJobs().ready === 1, 'the warm pod counted ready');
      expect(await app.get<Registry>(METRICS_REGISTRY).metrics()).toMatch(
        /^hangar_runner_warm_jobs\{state="ready"[^}]*\} 1$/m,
      );
      // A task of another profile is waiting: the pod's credentials must reach nothing of it.
      const other = await submit('not yours');
      await jobOf(other.id);
      const base = app.get(RunnerEndpoints).url;

      for (const token of [pod.warmToken, pod.attemptToken]) {
        // Every route of an attempt: refused as no attempt's credential, before any body is read.
        for (const route of Object.values(TASK_API_ROUTES)) {
          const answer = await callApi(app, route, token, route.startsWith('GET') ? undefined : {});
          expect({ route, ...answer }).toMatchObject({ route, status: 401, body: { code: 'unknown' } });
        }
        const claimOther = await callApi(app, TASK_API_ROUTES.claim, token, {
          taskId: other.id,
          attempt: 1,
          workspace: '/workspace/x',
        });
        expect(claimOther.status).toBe(401);
        // The model gateway: no model call on its credential.
        const model = await fetch(`${base}/model/claude/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': token, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1, messages: [] }),
        });
        expect(model.status).toBe(401);
        // Hangar's MCP server: no child task, no approval.
        const mcp = await fetch(`${base}/mcp`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        expect(mcp.status).toBe(401);
        // The egress proxy: no way out.
        expect(await throughProxy(base, token)).toBe(407);
      }
      // The attempt's credential to be is not the pod's on the warm routes either.
      expect(await callApi(app, WARM_POD_ROUTES.warmProfile, pod.attemptToken)).toMatchObject({
        status: 401,
        body: { code: 'unknown' },
      });
      // Nor can the pod swap the credential its attempt will get once it reported one.
      const swap = await callApi(app, WARM_POD_ROUTES.warmAssignment, pod.warmToken, {
        attemptTokenHash: hashAttemptToken(newAttemptToken()),
      });
      expect(swap).toMatchObject({ status: 409, body: { code: 'other-credential' } });
      // Stored hashed, like attempts' credentials.
      const rows = await prisma.warmPod.findMany({});
      expect(JSON.stringify(rows)).not.toContain(pod.warmToken);
      expect(JSON.stringify(rows)).not.toContain(pod.attemptToken);
      expect((await tasks.get(other.id)).status).toBe('QUEUED');
    });

    it("should give no attempt to a warm pod that reported another attempt's credential as its CLI's", async () => {
      const profile = await warmProfile();
      const { app, executor } = await startController(warmOverrides());
      await leading(executor);
      const job = await warmJob(profile.id);
      const other = await submit('not yours');
      const othersToken = await tokenOf(await jobOf(other.id));
      const warmToken = await tokenOf(job);
      const going = new AbortController();
      pods.push(going);
      void callApi(
        app,
        WARM_POD_ROUTES.warmAssignment,
        warmToken,
        { attemptTokenHash: hashAttemptToken(othersToken) },
        going.signal,
      ).catch(() => undefined);
      await until(async () => (await warmPods.get(job.metadata!.name!))?.ready === true, 'the pod ready');

      const task = await submitWith(profile.name);
      await jobOf(task.id);
      // The pod is done for; the other attempt's credential is as it was.
      expect(await callApi(app, WARM_POD_ROUTES.warmProfile, warmToken)).toMatchObject({
        status: 401,
        body: { code: 'revoked' },
      });
      const claim = await callApi(app, TASK_API_ROUTES.claim, othersToken, {
        taskId: other.id,
        attempt: 1,
        workspace: '/workspace/other',
      });
      expect(claim.status).toBe(200);
    });

    it("should label a warm Job given an attempt though its patch failed, and let a new leader run it as the attempt's", async () => {
      const profile = await warmProfile();
      const first = await startController(warmOverrides());
      await leading(first.executor);
      const job = await warmJob(profile.id);
      const name = job.metadata!.name!;
      fake.runPod(NAMESPACE, name);
      const pod = await podWaits(first.app, job);
      // The API server is away when the controller labels the Job with its attempt.
      fake.failNext('PATCH', new RegExp(`/jobs/${name}$`), 503);
      const task = await submitWith(profile.name);
      expect((await pod.assignment).body).toEqual({ assignment: { taskId: task.id, attempt: 1 } });
      // Its next reconcile labels it from what the database says was given.
      await until(
        () => fake.job(NAMESPACE, name)?.metadata?.labels?.['hangar.dev/task'] === task.id,
        'the warm Job labelled at its next reconcile',
      );
      const patches = fake.requests.filter(
        (request) => request.method === 'PATCH' && request.path.endsWith(`/jobs/${name}`),
      );
      expect(patches.length).toBeGreaterThanOrEqual(2);
      expect(fake.job(NAMESPACE, taskJobName(task.id, 1))).toBeUndefined();
      await podClaimsGiven(first.app, pod.attemptToken, task.id);

      // Another replica takes over: it adopts the Job as the attempt's (no second Job, its token
      // Secret found as it is), and what the cluster says of it ends the attempt.
      await stopController(first.app);
      const second = await startController({ ...warmOverrides(), RUNNER_ID: 'controller-b' });
      await leading(second.executor);
      await until(() => second.executor.activeJobs().length === 1, 'the warm Job adopted');
      await second.executor.resync();
      expect(fake.secret(NAMESPACE, name)?.metadata?.ownerReferences?.[0]?.uid).toBe(job.metadata!.uid);
      fake.terminatePod(NAMESPACE, name, { exitCode: 137, reason: 'OOMKilled' });
      const failed = await statusOf(task.id, 'FAILED');
      expect(failed.error).toMatch(/^oom-killed: /);
      expect(fake.job(NAMESPACE, taskJobName(task.id, 1))).toBeUndefined();
    });

    it("should answer a warm pod's wait held by another replica as soon as its Job is given an attempt", async () => {
      const profile = await warmProfile();
      const leader = await startController(warmOverrides());
      await leading(leader.executor);
      // The pod's calls reach the follower (a Service spreads them over the replicas), whose own
      // look in the database comes only at the wait's end (20 s): only the leader's word can
      // answer it before.
      const follower = await startController({
        ...warmOverrides(),
        RUNNER_ID: 'controller-b',
        RUNNER_JOB_WARM_POLL_MS: String(TASK_API_WARM_WAIT_MS * 2),
      });
      expect(follower.executor.isLeader).toBe(false);
      const job = await warmJob(profile.id);
      const asked = Date.now();
      const pod = await podWaits(follower.app, job);

      const task = await submitWith(profile.name);
      expect((await pod.assignment).body).toEqual({ assignment: { taskId: task.id, attempt: 1 } });
      expect(Date.now() - asked).toBeLessThan(TASK_API_WARM_WAIT_MS);
    });

    it('should retry a task whose warm pod was lost after it claimed the attempt, as any lost attempt', async () => {
      const { app, name, pod, task } = await givenToWarmPod();
      await podClaimsGiven(app, pod.attemptToken, task.id);

      fake.evictPod(NAMESPACE, name);
      const requeued = await statusOf(task.id, 'QUEUED');
      expect(requeued.attempts).toBe(1);
      expect(requeued.error).toMatch(/^evicted: .*\(attempt 1 of 2\)$/);
      // Its credential is revoked with the attempt.
      expect((await callApi(app, TASK_API_ROUTES.heartbeat, pod.attemptToken, {})).status).toBe(401);
      const metrics = await app.get<Registry>(METRICS_REGISTRY).metrics();
      expect(metrics).toMatch(/^hangar_runner_job_failures_total\{reason="evicted"[^}]*\} 1$/m);
    });

    it('should start the attempt cold when its warm pod is lost before it claimed it', async () => {
      const { app, name, pod, task } = await givenToWarmPod();

      fake.terminatePod(NAMESPACE, name, { exitCode: 1, reason: 'Error' });
      const cold = await jobOf(task.id);
      expect((await tasks.get(task.id)).status).toBe('QUEUED');
      // The cold pod's credential is its own; the lost pod's is revoked.
      const token = await tokenOf(cold);
      expect((await callApi(app, TASK_API_ROUTES.heartbeat, pod.attemptToken, {})).status).toBe(401);
      const claim = await callApi(app, TASK_API_ROUTES.claim, token, {
        taskId: task.id,
        attempt: 1,
        workspace: '/workspace/cold',
      });
      expect(claim.status).toBe(200);
      expect((await tasks.jobStates([task.id]))[0]).toMatchObject({
        status: 'RUNNING',
        runnerId: taskJobName(task.id, 1),
      });
    });
  });

  function leaseRenewals(identity: string): number {
    return fake.requests.filter(
      (request) =>
        request.method === 'PUT' &&
        request.path.includes('/leases/') &&
        (request.body as { spec?: { holderIdentity?: string } } | undefined)?.spec?.holderIdentity ===
          identity,
    ).length;
  }

  async function statusEvents(taskId: string) {
    return (await stream.readAfter(taskId, 0))
      .filter((event) => event.type === 'task.status')
      .map((event) => event.data);
  }
});

// Waits for a condition the system reaches by itself (a watch event, a reconcile), checking
// every 20 ms; fails with what it waited for.
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// A plain HTTP request through the runner's egress proxy with `token` as its credential: its status.
function throughProxy(base: string, token: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      {
        host: hostname,
        port,
        method: 'GET',
        path: 'http://example.com/',
        headers: {
          host: 'example.com',
          'proxy-authorization': `Basic ${Buffer.from(`hangar:${token}`).toString('base64')}`,
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    sent.on('error', reject);
    sent.end();
  });
}
