import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  PROBLEM_CONTENT_TYPE,
  TASK_API_MAX_BODY_BYTES,
  TASK_API_PREFIX,
  TASK_API_ROUTES,
  type Task,
  type TaskApiRoute,
} from '@hangar/contracts';
import {
  AttemptTokenRepository,
  ConversationRepository,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  hashAttemptToken,
  newAttemptToken,
  ProfileRepository,
  ProjectGitHostRepository,
  TaskDiffRepository,
  TaskRepository,
  WarmPodRepository,
  type PrismaClient,
} from '@hangar/db';
import { TaskStateStore } from '@hangar/db/task-state';
import { createRedis, TaskEventStream } from '@hangar/redis';
import { createTestDatabase, redisUrl, uniqueRedisPrefix, type TestDatabase } from '@hangar/testing';
import { startFakeKubeApi, type FakeKubeApi } from '@hangar/testing/kubernetes';
import { AppModule } from '../src/app.module';
import { AgentRunnerConfigSchema } from '../src/config';
import { AttemptCredentials } from '../src/modules/endpoints/attempt-credentials.service';
import { RunnerEndpoints } from '../src/modules/endpoints/runner-endpoints.server';
import { taskJobName } from '../src/modules/kubernetes/task-job';
import { AgentSandbox } from '../src/modules/sandbox/agent-sandbox';

// The task API of the kubernetes executor's runner, called as run-task.js calls it, on a real
// Nest app with the real PostgreSQL and Redis (and the fake Kubernetes API its controller needs).
// Every call acts on the token's attempt alone, and none is taken once that attempt is over.
describe('task API', () => {
  const prefix = uniqueRedisPrefix('task-api');
  const redis = createRedis(redisUrl());
  const stream = new TaskEventStream(redis, { prefix });
  let database: TestDatabase;
  let prisma: PrismaClient;
  let tasks: TaskRepository;
  // The states the tests start from, written as a runner or pod would have.
  let state: TaskStateStore;
  let tokens: AttemptTokenRepository;
  let fake: FakeKubeApi;
  let dir: string;
  let app: INestApplicationContext;
  let credentials: AttemptCredentials;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('task-api');
    prisma = createPrismaClient(database.url);
    tasks = new TaskRepository(prisma);
    state = new TaskStateStore(prisma);
    tokens = new AttemptTokenRepository(prisma);
    fake = await startFakeKubeApi();
    dir = await mkdtemp(path.join(tmpdir(), 'hangar-task-api-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
    const config = AgentRunnerConfigSchema.parse({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl(),
      HANGAR_REDIS_PREFIX: prefix,
      SCRIPTED_MODEL_URL: 'http://127.0.0.1:4010',
      RUNNER_EXECUTOR: 'kubernetes',
      RUNNER_KUBECONFIG: kubeconfig,
      RUNNER_JOB_NAMESPACE: 'hangar-tasks',
      RUNNER_JOB_IMAGE: 'registry.example.com/hangar/agent-runner:1.2.3',
      RUNNER_TASK_API_URL: 'http://hangar-agent-runner.hangar.svc:4011',
      RUNNER_TASK_API_PORT: '0',
      GIT_ALLOWED_HOSTS: 'github.com,gitlab.example.com',
      LOG_LEVEL: 'silent',
    });
    app = await NestFactory.createApplicationContext(
      AppModule.forRoot(config, AgentSandbox.forRunner(config)),
      {
        logger: false,
      },
    );
    await app.init();
    credentials = app.get(AttemptCredentials);
    baseUrl = app.get(RunnerEndpoints).url;
  });

  afterAll(async () => {
    await app?.close();
    await fake.close();
    await prisma.$disconnect();
    await redis.quit();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function call(route: TaskApiRoute, token: string | undefined, body?: unknown) {
    const [method, routePath] = TASK_API_ROUTES[route].split(' ') as [string, string];
    return request(method, routePath, {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async function request(
    method: string,
    routePath: string,
    options: { authorization?: string; body?: string },
  ) {
    const response = await fetch(`${baseUrl}${TASK_API_PREFIX}${routePath}`, {
      method,
      headers: {
        ...(options.authorization ? { authorization: options.authorization } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: options.body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  }

  // A task waiting for its first attempt, and the token its Job's Secret would hold.
  async function waitingTask(input: { repository?: string; conversationId?: string } = {}) {
    const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'via the task API', ...input });
    return { task, token: await credentials.issue(task, 1, 'claude') };
  }

  async function claimed(input: { repository?: string; conversationId?: string } = {}) {
    const waiting = await waitingTask(input);
    const claim = await call('claim', waiting.token, claimOf(waiting.task));
    expect(claim.status).toBe(200);
    return waiting;
  }

  // A body each route takes, so that only the token decides the answer.
  const VALID: Record<TaskApiRoute, unknown> = {
    claim: { taskId: 'x', attempt: 1, workspace: '/workspace/x' },
    events: { events: [{ type: 'assistant.text', data: { text: 'hi' } }] },
    heartbeat: {},
    approvalWait: undefined,
    workspace: { dir: '/workspace/x', branch: null, baseCommit: null },
    getSession: undefined,
    putSession: { sessionId: 's1', relativePath: 'projects/x/s1.jsonl', transcript: '' },
    diff: {
      unifiedDiff: '',
      truncated: false,
      files: [],
      linesAdded: 0,
      linesRemoved: 0,
      commit: null,
    },
    pushed: {},
    answer: { content: 'done' },
    finish: { status: 'COMPLETED', result: 'done' },
    requeue: {},
  };
  const ROUTES = Object.keys(TASK_API_ROUTES) as TaskApiRoute[];

  async function everyRoute(token: string) {
    const answers: Record<string, { status: number; code: unknown }> = {};
    for (const route of ROUTES) {
      const answer = await call(route, token, VALID[route]);
      answers[route] = { status: answer.status, code: answer.body?.['code'] };
    }
    return answers;
  }

  function everyRouteAnswers(status: number, code: string) {
    return Object.fromEntries(ROUTES.map((route) => [route, { status, code }]));
  }

  it("should claim the token's attempt as its Job's run, and answer the task, its profile and no git", async () => {
    const { task, token } = await waitingTask();
    // Claimed only for the task and attempt the pod was started for.
    expect(await call('claim', token, { ...claimOf(task), attempt: 2 })).toMatchObject({
      status: 409,
      body: { code: 'other-attempt' },
    });
    expect((await tasks.get(task.id)).status).toBe('QUEUED');
    const claim = await call('claim', token, claimOf(task));
    expect(claim.status).toBe(200);
    expect(claim.body).toMatchObject({
      task: {
        id: task.id,
        status: 'RUNNING',
        attempts: 1,
        sandbox: 'pod',
        workspace: `/workspace/${task.id}`,
      },
      profile: { name: 'default', provider: 'claude' },
      git: null,
    });
    // The run is the Job's: the controller finds the pod's attempt by its name.
    const [state] = await tasks.jobStates([task.id]);
    expect(state?.runnerId).toBe(taskJobName(task.id, 1));
    expect(await statusEvents(task.id)).toEqual([{ status: 'RUNNING' }]);
    // Claimed once: the same token claims nothing more.
    expect(await call('claim', token, claimOf(task))).toMatchObject({
      status: 409,
      body: { code: 'attempt-ended' },
    });
  });

  it("should keep a pod's events whose text holds NUL, as U+FFFD, with no 5xx", async () => {
    const { task, token } = await claimed();
    expect(
      await call('events', token, { events: [{ type: 'assistant.text', data: { text: 'a\u0000b' } }] }),
    ).toMatchObject({ status: 204 });
    const texts = (await stream.readAfter(task.id, 0))
      .filter((event) => event.type === 'assistant.text')
      .map((event) => event.data);
    expect(texts).toEqual([{ text: 'a\uFFFDb' }]);
    expect(await call('finish', token, { status: 'COMPLETED', result: 'done \u0000' })).toMatchObject({
      status: 200,
      body: { task: { status: 'COMPLETED', result: 'done \uFFFD' } },
    });
  });

  it('should record the run as the runner records its own: events, heartbeat, workspace, diff, push, outcome', async () => {
    const { task, token } = await claimed();
    expect(
      await call('events', token, {
        events: [
          { type: 'assistant.text', data: { text: 'working' } },
          { type: 'stderr', data: { line: 'a warning' } },
        ],
      }),
    ).toMatchObject({ status: 204 });
    expect(await call('heartbeat', token, {})).toMatchObject({
      status: 200,
      body: { cancelRequested: false },
    });
    await state.requestCancel(task.id);
    expect(await call('heartbeat', token, {})).toMatchObject({
      status: 200,
      body: { cancelRequested: true },
    });
    const baseCommit = 'a'.repeat(40);
    expect(
      await call('workspace', token, {
        dir: `/workspace/${task.id}`,
        branch: `hangar/${task.id}`,
        baseCommit,
      }),
    ).toMatchObject({ status: 204 });
    const diff = {
      unifiedDiff: 'diff --git a/x b/x\n',
      truncated: false,
      files: [{ path: 'x', status: 'added', additions: 1, deletions: 0 }],
      linesAdded: 1,
      linesRemoved: 0,
      commit: 'b'.repeat(40),
    };
    expect(await call('diff', token, diff)).toMatchObject({ status: 204 });
    expect(await call('pushed', token, {})).toMatchObject({ status: 204 });
    const finish = await call('finish', token, {
      status: 'CANCELLED',
      error: 'cancelled: stopped on request',
      exitCode: 143,
    });
    expect(finish).toMatchObject({
      status: 200,
      body: { task: { id: task.id, status: 'CANCELLED', error: 'cancelled: stopped on request' } },
    });
    expect(await tasks.get(task.id)).toMatchObject({
      status: 'CANCELLED',
      branch: `hangar/${task.id}`,
      baseCommit,
      pushedAt: expect.any(String),
      exitCode: 143,
    });
    expect(await new TaskDiffRepository(prisma).get(task.id)).toEqual({ taskId: task.id, ...diff });
    const events = await stream.readAfter(task.id, 0);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(events.map((event) => event.type)).toEqual([
      'task.status',
      'assistant.text',
      'stderr',
      'task.status',
    ]);
    expect(events.at(-1)?.data).toEqual({ status: 'CANCELLED', reason: 'cancelled: stopped on request' });
    // Postgres has them all before the answer.
    expect((await tasks.get(task.id)).lastSeq).toBe(4);
    // The stream expires like a finished run's (STREAM_RETENTION_SECONDS).
    expect(await redis.ttl(`${prefix}:task:${task.id}:events`)).toBeGreaterThan(0);
  });

  it("should keep a conversation's session and answer, and refuse them to a task outside one", async () => {
    const conversation = await new ConversationRepository(prisma).create(DEFAULT_PROJECT_ID, {
      title: 'chat',
    });
    const { task, token } = await claimed({ conversationId: conversation.id });
    expect(await call('getSession', token)).toMatchObject({ status: 200, body: { session: null } });
    const session = {
      sessionId: 'f1e2d3c4-0000-4000-8000-000000000000',
      relativePath: 'projects/-workspace-conversations-x/f1e2d3c4-0000-4000-8000-000000000000.jsonl',
      transcript: Buffer.from('{"type":"user"}\n').toString('base64'),
    };
    expect(await call('putSession', token, session)).toMatchObject({ status: 204 });
    expect(await call('getSession', token)).toMatchObject({ status: 200, body: { session } });
    expect(await call('answer', token, { content: 'the answer' })).toMatchObject({ status: 204 });
    const messages = await new ConversationRepository(prisma).messages(conversation.id, { limit: 10 });
    expect(messages.items).toEqual([
      expect.objectContaining({ role: 'assistant', content: 'the answer', taskId: task.id }),
    ]);

    const outside = await claimed();
    expect(await call('putSession', outside.token, session)).toMatchObject({
      status: 409,
      body: { code: 'not-a-conversation' },
    });
    expect(await call('answer', outside.token, { content: 'x' })).toMatchObject({ status: 409 });
    expect(await call('getSession', outside.token)).toMatchObject({ status: 200, body: { session: null } });
  });

  it("should offer the pod the credential of its repository's host only", async () => {
    await new ProjectGitHostRepository(prisma).replace(DEFAULT_PROJECT_ID, [
      { host: 'github.com', credential: { token: 'ghp_github-only', username: 'x-access-token' } },
      { host: 'gitlab.example.com', credential: { token: 'glpat-elsewhere' } },
    ]);
    try {
      const { task, token } = await waitingTask({ repository: 'https://github.com/acme/app.git' });
      const claim = await call('claim', token, claimOf(task));
      expect(claim.body?.['git']).toEqual({
        host: 'github.com:443',
        credential: { token: 'ghp_github-only', username: 'x-access-token' },
      });
      expect(JSON.stringify(claim.body)).not.toContain('glpat-elsewhere');
    } finally {
      await new ProjectGitHostRepository(prisma).replace(DEFAULT_PROJECT_ID, []);
    }
  });

  it('should give the task back to the queue on requeue, with the runner-shutdown reason, and end the token', async () => {
    const { task, token } = await claimed();
    const requeued = await call('requeue', token, {});
    expect(requeued).toMatchObject({ status: 200, body: { task: { id: task.id, status: 'QUEUED' } } });
    expect((requeued.body?.['task'] as Task).error).toMatch(/^runner-shutdown: /);
    expect(await everyRoute(token)).toEqual(everyRouteAnswers(401, 'revoked'));
  });

  describe('tokens it refuses', () => {
    it('should refuse every call without a token, or with one of no attempt, with 401', async () => {
      const none = await call('heartbeat', undefined, {});
      expect(none).toMatchObject({ status: 401, type: PROBLEM_CONTENT_TYPE, body: { status: 401 } });
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="hangar-task-api"');
      expect(await everyRoute('hga_not-a-token-of-anything')).toEqual(everyRouteAnswers(401, 'unknown'));
      expect(await everyRoute('hgr_an-api-token-is-not-one')).toEqual(everyRouteAnswers(401, 'unknown'));
    });

    it('should refuse an expired token on every call', async () => {
      const { task } = await claimed();
      const expired = await tokens.issue({
        taskId: task.id,
        attempt: 1,
        provider: 'claude',
        expiresAt: new Date(Date.now() - 1000),
      });
      expect(await everyRoute(expired)).toEqual(everyRouteAnswers(401, 'expired'));
      expect((await tasks.get(task.id)).status).toBe('RUNNING');
    });

    it('should refuse a token of another attempt of the task, and act on no other task', async () => {
      // The task waits for attempt 1; a token of attempt 2 claims nothing.
      const { task } = await waitingTask();
      const later = await credentials.issue(task, 2, 'claude');
      expect(await everyRoute(later)).toEqual(everyRouteAnswers(409, 'attempt-ended'));
      expect((await tasks.get(task.id)).status).toBe('QUEUED');

      // Attempt 1 ran and was lost; the task is retried: attempt 1's token is good for nothing.
      const first = await claimed();
      await state.requeue(first.task.id, taskJobName(first.task.id, 1), 'runner-lost: gone');
      expect(await everyRoute(first.token)).toEqual(everyRouteAnswers(409, 'attempt-ended'));

      // Another task's token: it only ever names its own task.
      const mine = await claimed();
      const theirs = await claimed();
      await call('events', theirs.token, { events: [{ type: 'assistant.text', data: { text: 'theirs' } }] });
      expect((await stream.readAfter(mine.task.id, 0)).map((event) => event.type)).toEqual(['task.status']);
    });

    it("should refuse a runner's own attempt: its agent's token is not a task pod's", async () => {
      const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'run by a runner' });
      await state.claim(task.id, 'runner-a', '/var/lib/hangar/workspaces/x', 1, 'bwrap');
      const token = await credentials.issue(task, 1, 'claude');
      const answers = await everyRoute(token);
      expect(answers).toEqual(everyRouteAnswers(409, 'attempt-ended'));
      expect(await stream.readAfter(task.id, 0)).toEqual([]);
    });

    it('should refuse every call once the attempt has finished, and once the task ended otherwise', async () => {
      const finished = await claimed();
      expect(await call('finish', finished.token, { status: 'COMPLETED', result: 'ok' })).toMatchObject({
        status: 200,
      });
      expect(await tokens.check(finished.token)).toEqual({ ok: false, refusal: 'revoked' });
      expect(await everyRoute(finished.token)).toEqual(everyRouteAnswers(401, 'revoked'));
      expect(await tasks.get(finished.task.id)).toMatchObject({ status: 'COMPLETED', result: 'ok' });

      // Failed by someone else (a lost run): the token was never revoked, and is refused all the same.
      const lost = await claimed();
      await state.failLost(lost.task.id, taskJobName(lost.task.id, 1), 'runner-lost: no heartbeat');
      expect(await everyRoute(lost.token)).toEqual(everyRouteAnswers(409, 'attempt-ended'));
      expect((await tasks.get(lost.task.id)).status).toBe('FAILED');
    });
  });

  describe("a warm pod's routes", () => {
    async function warmPod() {
      const profiles = new ProfileRepository(prisma);
      const profile = await profiles.get(DEFAULT_PROJECT_ID, 'default');
      const jobName = `hangar-warm-${Date.now()}`;
      const token = await new WarmPodRepository(prisma).issue({
        jobName,
        profileId: await profiles.idOf(DEFAULT_PROJECT_ID, 'default'),
        profileVersion: new Date(profile.updatedAt),
        expiresAt: new Date(Date.now() + 60_000),
      });
      return { token, profile, jobName };
    }

    it("should answer a warm pod its profile, and refuse it a body that is no credential's sha256", async () => {
      const { token, profile } = await warmPod();
      const answer = await request('GET', '/warm/profile', { authorization: `Bearer ${token}` });
      expect(answer).toMatchObject({ status: 200, body: { profile: { name: profile.name } } });
      for (const body of ['not json', JSON.stringify({ attemptTokenHash: 'hga_x' }), JSON.stringify({})]) {
        const refused = await request('POST', '/warm/assignment', { authorization: `Bearer ${token}`, body });
        expect({ body, status: refused.status, fields: fieldsOf(refused.body) }).toEqual({
          body,
          status: 400,
          fields: [body === 'not json' ? '(body)' : 'attemptTokenHash'],
        });
      }
      expect(await request('GET', '/warm/assignment', { authorization: `Bearer ${token}` })).toMatchObject({
        status: 405,
      });
    });

    it('should not answer the profile to a warm credential once its pod was given an attempt (its agent may hold it)', async () => {
      const { token, jobName } = await warmPod();
      const pods = new WarmPodRepository(prisma);
      const attemptToken = newAttemptToken();
      const ready = await request('POST', '/warm/assignment', {
        authorization: `Bearer ${token}`,
        body: JSON.stringify({ attemptTokenHash: hashAttemptToken(attemptToken) }),
      });
      expect(ready.status).toBe(200);
      const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'given to a warm pod' });
      expect(
        await pods.assign(jobName, {
          taskId: task.id,
          attempt: 1,
          provider: 'claude',
          expiresAt: new Date(Date.now() + 60_000),
        }),
      ).toBe(true);
      const refused = await request('GET', '/warm/profile', { authorization: `Bearer ${token}` });
      expect(refused).toMatchObject({ status: 409, type: PROBLEM_CONTENT_TYPE, body: { code: 'assigned' } });
    });

    it("should take no attempt's token, and no token at all, on the warm routes", async () => {
      const { token } = await claimed();
      for (const authorization of [`Bearer ${token}`, undefined]) {
        const answer = await request('GET', '/warm/profile', authorization ? { authorization } : {});
        expect(answer).toMatchObject({ status: 401, type: PROBLEM_CONTENT_TYPE, body: { code: 'unknown' } });
      }
      // And a warm pod's is no attempt's.
      expect(await everyRoute((await warmPod()).token)).toEqual(everyRouteAnswers(401, 'unknown'));
    });
  });

  describe('bodies it refuses', () => {
    it('should answer a body of the wrong shape with 400 naming the field, never a 5xx', async () => {
      const { token } = await claimed();
      const cases: [TaskApiRoute, string, string][] = [
        ['events', 'not json', '(body)'],
        [
          'events',
          JSON.stringify({ events: [{ type: 'task.status', data: { status: 'COMPLETED' } }] }),
          'events.0.type',
        ],
        ['events', JSON.stringify({ events: [] }), 'events'],
        ['events', JSON.stringify({ events: [{ type: 'assistant.text', data: {} }] }), 'events.0.data.text'],
        ['workspace', JSON.stringify({ dir: 'relative', branch: null, baseCommit: null }), 'dir'],
        ['workspace', JSON.stringify({ dir: '/w', branch: null, baseCommit: 'HEAD' }), 'baseCommit'],
        [
          'putSession',
          JSON.stringify({ sessionId: 's', relativePath: '../../etc/passwd', transcript: '' }),
          'relativePath',
        ],
        ['finish', JSON.stringify({ status: 'RUNNING' }), 'status'],
        ['finish', JSON.stringify({ status: 'COMPLETED', extra: 1 }), '(body)'],
        ['heartbeat', JSON.stringify([]), '(body)'],
      ];
      for (const [route, body, field] of cases) {
        const [method, routePath] = TASK_API_ROUTES[route].split(' ') as [string, string];
        const answer = await request(method, routePath, { authorization: `Bearer ${token}`, body });
        expect({
          route,
          body,
          status: answer.status,
          type: answer.type,
          fields: fieldsOf(answer.body),
        }).toEqual({
          route,
          body,
          status: 400,
          type: PROBLEM_CONTENT_TYPE,
          fields: [field],
        });
      }
    });

    it('should answer a body over the limit with 413, an unknown route with 404 and a wrong method with 405', async () => {
      const { token } = await claimed();
      // Refused on its announced length, before the runner reads (or buffers) any of it.
      const huge = await announced(token, TASK_API_MAX_BODY_BYTES + 1);
      expect(huge).toMatchObject({ status: 413, type: PROBLEM_CONTENT_TYPE });
      expect(
        await request('POST', '/nowhere', { authorization: `Bearer ${token}`, body: '{}' }),
      ).toMatchObject({
        status: 404,
      });
      const wrong = await request('GET', '/finish', { authorization: `Bearer ${token}` });
      expect(wrong).toMatchObject({ status: 405 });
      expect(wrong.headers.get('allow')).toBe('POST');
    });
  });

  // A POST announcing `length` bytes of body, of which it sends only the first few.
  function announced(token: string, length: number): Promise<{ status: number; type: string }> {
    return new Promise((resolve, reject) => {
      const sending = httpRequest(
        `${baseUrl}${TASK_API_PREFIX}/events`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': length,
          },
        },
        (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'] ?? '' });
          sending.destroy();
        },
      );
      sending.on('error', (error) => {
        if (!sending.destroyed) reject(error);
      });
      sending.write('{"events":[');
    });
  }

  async function statusEvents(taskId: string) {
    return (await stream.readAfter(taskId, 0))
      .filter((event) => event.type === 'task.status')
      .map((event) => event.data);
  }
});

function claimOf(task: Task) {
  return { taskId: task.id, attempt: task.attempts + 1, workspace: `/workspace/${task.id}` };
}

function fieldsOf(body: Record<string, unknown> | undefined): string[] {
  return ((body?.['errors'] as { field: string }[] | undefined) ?? []).map((error) => error.field);
}
