import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  checkDatabase,
  createPrismaClient,
  DatabaseUnreachableError,
  migrate,
  Prisma,
  type PrismaClient,
} from '../src';
import { MessageRole, TaskStatus } from '../src/client';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe(createPrismaClient.name, () => {
  const { url, name } = freshDatabaseUrl('client');
  let prisma: PrismaClient;

  beforeAll(async () => {
    await migrate(url);
    prisma = createPrismaClient(url, { maxConnections: 2 });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await dropDatabases([name]);
  });

  it('should insert and read back a task with its events', async () => {
    const task = await prisma.task.create({
      data: { projectId: 'default', profileId: 'default', prompt: 'say hello', timeoutSeconds: 60 },
    });
    await prisma.taskEvent.createMany({
      data: [
        { taskId: task.id, seq: 1, type: 'task.status', data: { status: 'QUEUED' } },
        { taskId: task.id, seq: 2, type: 'assistant.text', data: { text: 'hello' } },
      ],
    });

    const stored = await prisma.task.findUniqueOrThrow({
      where: { id: task.id },
      include: { events: { orderBy: { seq: 'asc' } }, profile: true },
    });

    expect(stored).toMatchObject({
      status: TaskStatus.QUEUED,
      attempts: 0,
      lastSeq: 0,
      costUsd: null,
      profile: { name: 'default', provider: 'claude' },
    });
    expect(stored.createdAt).toBeInstanceOf(Date);
    expect(stored.updatedAt).toBeInstanceOf(Date);
    expect(stored.events.map((event) => [event.seq, event.type, event.data])).toEqual([
      [1, 'task.status', { status: 'QUEUED' }],
      [2, 'assistant.text', { text: 'hello' }],
    ]);
  });

  // pg's own default closed a connection idle 10 s: a service's next burst of work paid for new
  // PostgreSQL backends (a fork, catalog caches, prepared statements again).
  it("should keep an idle connection well past pg's 10 s: the next statement is served by the same backend", async () => {
    const backend = () =>
      prisma
        .$queryRaw<{ pid: number }[]>(Prisma.sql`SELECT pg_backend_pid() AS pid`)
        .then(([row]) => row?.pid);
    const before = await backend();
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(await backend()).toBe(before);
  }, 20_000);

  it('should cost a service ~3 MB of heap, not 12: no base64 of its query compiler kept, its parameter graph sparse', async () => {
    // A service's process (the built client, as services load it): heap after one query, less
    // heap before the client, both after a full collection (scripts/generate.mjs says why).
    const child = `
      const v8 = require('node:v8');
      const fs = require('node:fs');
      v8.setFlagsFromString('--expose-gc');
      const gc = require('node:vm').runInNewContext('gc');
      const { createPrismaClient } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist'))});
      (async () => {
        gc();
        const before = process.memoryUsage().heapUsed;
        const prisma = createPrismaClient(process.argv[1], { maxConnections: 1 });
        const [{ one }] = await prisma.$queryRawUnsafe('SELECT 1 AS one');
        gc();
        const heapMb = (process.memoryUsage().heapUsed - before) / 1048576;
        const file = v8.writeHeapSnapshot(require('node:path').join(require('node:os').tmpdir(), 'hangar-client-' + process.pid + '.heapsnapshot'));
        const text = fs.readFileSync(file, 'utf8');
        fs.rmSync(file);
        // Any of the base64's start; the module holding it would be in require's cache.
        const wasm = fs.readFileSync(require.resolve('@prisma/client/runtime/query_compiler_small_bg.postgresql.wasm-base64.js', { paths: [${JSON.stringify(path.resolve(__dirname, '..'))}] }), 'latin1');
        const start = wasm.slice(wasm.indexOf('"') + 1, wasm.indexOf('"') + 41);
        console.log(JSON.stringify({
          one,
          heapMb,
          base64InHeap: text.includes(start),
          moduleLoaded: Object.keys(require.cache).some((key) => key.includes('wasm-base64')),
        }));
        await prisma.$disconnect();
      })();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', child, url], {
      maxBuffer: 1 << 20,
    });
    const { heapMb, ...found } = JSON.parse(stdout) as { heapMb: number };
    expect(found).toEqual({ one: 1, base64InHeap: false, moduleLoaded: false });
    // 12.3 MB before: 4.5 of base64 text, 7 of the graph's elements.
    expect(heapMb).toBeLessThan(5);
    // A heap snapshot written and read: seconds on a busy machine.
  }, 30_000);

  it('should reject a second event with the same seq as a unique violation (P2002)', async () => {
    const task = await prisma.task.create({
      data: { projectId: 'default', profileId: 'default', prompt: 'twice', timeoutSeconds: 60 },
    });
    await prisma.taskEvent.create({ data: { taskId: task.id, seq: 1, type: 'stderr', data: { line: 'a' } } });

    const duplicate = prisma.taskEvent.create({
      data: { taskId: task.id, seq: 1, type: 'stderr', data: { line: 'b' } },
    });

    await expect(duplicate).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await expect(duplicate).rejects.toMatchObject({ code: 'P2002' });
  });

  // Reads and writes every column of every model, so a hand-written migration that drifts from
  // schema.prisma fails here.
  it('should round-trip every model the migrations create', async () => {
    const project = await prisma.project.create({ data: { slug: 'roundtrip', name: 'Round trip' } });
    const token = await prisma.apiToken.create({
      data: {
        projectId: project.id,
        name: 'ci',
        prefix: 'hgr_ab12',
        hash: 'f'.repeat(64),
        expiresAt: new Date(),
      },
    });
    const profile = await prisma.agentProfile.create({
      data: {
        projectId: project.id,
        name: 'reviewer',
        model: 'sonnet',
        appendSystemPrompt: 'be brief',
        permissionMode: 'plan',
        maxTurns: 3,
        timeoutSeconds: 120,
        allowedTools: ['Read', 'Grep'],
        disallowedTools: ['Bash'],
      },
    });
    const conversation = await prisma.conversation.create({
      data: {
        projectId: project.id,
        profileId: profile.id,
        title: 'hi',
        agentSessionId: 's-1',
        workspace: '/w',
      },
    });
    const task = await prisma.task.create({
      data: {
        projectId: project.id,
        profileId: profile.id,
        conversationId: conversation.id,
        prompt: 'p',
        scenario: 'echo',
        timeoutSeconds: 30,
        runnerId: 'runner-1',
        heartbeatAt: new Date(),
        cancelRequestedAt: new Date(),
        result: 'done',
        numTurns: 2,
        durationMs: 1500,
        agentSessionId: 's-1',
        exitCode: 0,
        workspace: '/w',
        error: null,
        lastSeq: 4,
        startedAt: new Date(),
        finishedAt: new Date(),
      },
    });
    await prisma.message.createMany({
      data: [
        { conversationId: conversation.id, role: MessageRole.user, content: 'question', taskId: task.id },
        { conversationId: conversation.id, role: MessageRole.assistant, content: 'answer', taskId: task.id },
      ],
    });

    const stored = await prisma.project.findUniqueOrThrow({
      where: { slug: 'roundtrip' },
      include: {
        apiTokens: true,
        profiles: true,
        conversations: { include: { messages: true, tasks: true } },
      },
    });

    expect(stored.apiTokens).toEqual([token]);
    expect(stored.profiles).toEqual([profile]);
    expect(stored.profiles[0]!.provider).toBe('claude');
    expect(stored.conversations[0]!.tasks).toEqual([task]);
    expect(stored.conversations[0]!.messages.map((message) => message.role).sort()).toEqual([
      'assistant',
      'user',
    ]);

    await prisma.task.delete({ where: { id: task.id } });
    const orphans = await prisma.message.findMany({ where: { conversationId: conversation.id } });
    expect(orphans.map((message) => message.taskId)).toEqual([null, null]);
  });

  // The alert models (migration 20261222000000_alerts), every column written and read back.
  it('should round-trip the alert models', async () => {
    const project = await prisma.project.create({ data: { slug: 'alerting', name: 'Alerting' } });
    const at = new Date('2026-12-06T12:00:00.000Z');
    const target = await prisma.alertTarget.create({
      data: {
        projectId: project.id,
        kind: 'webhook',
        name: 'pager',
        config: { url: 'http://pager/hook', secret: 's'.repeat(16) },
        createdBy: 'admin',
        createdAt: at,
      },
    });
    const rule = await prisma.alertRule.create({
      data: {
        projectId: project.id,
        name: 'Failures',
        series: 'task.failure_rate',
        comparator: '>',
        threshold: 0.5,
        windowMinutes: 10,
        forSeconds: 60,
        severity: 'critical',
        profile: 'default',
        enabled: false,
        state: 'pending',
        stateSince: at,
        value: 0.75,
        evaluatedAt: at,
        createdBy: 'admin',
        createdAt: at,
        targets: { create: [{ targetId: target.id }] },
      },
      include: { targets: true },
    });
    const silence = await prisma.alertSilence.create({
      data: {
        projectId: project.id,
        ruleId: rule.id,
        startsAt: at,
        endsAt: at,
        comment: 'c',
        createdBy: 'admin',
      },
    });
    const firing = await prisma.alertFiring.create({
      data: { ruleId: rule.id, value: 0.75, firedAt: at, resolvedAt: at, silenced: true, resentAt: at },
    });
    const notification = await prisma.alertNotification.create({
      data: {
        targetId: target.id,
        event: 'resolved',
        firingIds: [firing.id],
        status: 'failed',
        attempts: 3,
        nextAt: at,
        lastError: 'HTTP 500',
        sentAt: at,
        createdAt: at,
      },
    });
    const anomaly = await prisma.anomaly.create({
      data: {
        taskId: 't1',
        project: 'alerting',
        profile: 'default',
        metric: 'cost_usd',
        value: 20,
        median: 1,
        mad: 0.1,
        score: 128,
        baselineTasks: 21,
        at,
        createdAt: at,
      },
    });

    expect(
      await prisma.alertRule.findUniqueOrThrow({
        where: { id: rule.id },
        include: { targets: true },
      }),
    ).toEqual(rule);
    expect(await prisma.alertTarget.findUniqueOrThrow({ where: { id: target.id } })).toEqual(target);
    expect(await prisma.alertSilence.findUniqueOrThrow({ where: { id: silence.id } })).toEqual(silence);
    expect(await prisma.alertFiring.findUniqueOrThrow({ where: { id: firing.id } })).toEqual(firing);
    expect(await prisma.alertNotification.findUniqueOrThrow({ where: { id: notification.id } })).toEqual(
      notification,
    );
    expect(await prisma.anomaly.findUniqueOrThrow({ where: { id: anomaly.id } })).toEqual(anomaly);

    // A project's removal takes its rules and targets, and with them their firings and
    // notifications; anomalies are the samples' and stay.
    await prisma.project.delete({ where: { id: project.id } });
    expect(await prisma.alertFiring.count()).toBe(0);
    expect(await prisma.alertNotification.count()).toBe(0);
    expect(await prisma.alertSilence.count()).toBe(0);
    expect(await prisma.anomaly.count()).toBe(1);
  });

  it('should store usage and cost as numbers', async () => {
    const task = await prisma.task.create({
      data: {
        projectId: 'default',
        profileId: 'default',
        prompt: 'count',
        timeoutSeconds: 60,
        status: TaskStatus.COMPLETED,
        costUsd: 0.012345,
        inputTokens: 10,
        outputTokens: 20,
        cacheReadTokens: 30,
        cacheCreationTokens: 40,
      },
    });

    const stored = await prisma.task.findUniqueOrThrow({ where: { id: task.id } });

    expect(stored).toMatchObject({
      costUsd: 0.012345,
      inputTokens: 10,
      cacheCreationTokens: 40,
      status: 'COMPLETED',
    });
  });
});

describe(checkDatabase.name, () => {
  it('should resolve when the server answers', async () => {
    const base = new URL(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/hangar');
    base.pathname = '/postgres';

    await expect(checkDatabase(base.toString())).resolves.toBeUndefined();
  });

  it('should throw one line naming host, port and database, without the password, when nothing listens', async () => {
    const outcome = checkDatabase('postgresql://hangar:s3cret@127.0.0.1:1/hangar');

    await expect(outcome).rejects.toThrow(DatabaseUnreachableError);
    await expect(outcome).rejects.toThrow(
      /^cannot reach PostgreSQL at 127\.0\.0\.1:1\/hangar: connect ECONNREFUSED$/,
    );
  });

  it('should report what PostgreSQL says when the database does not exist', async () => {
    const { url } = freshDatabaseUrl('absent');

    await expect(checkDatabase(url)).rejects.toThrow(
      /^cannot reach PostgreSQL at .+: database "hangar_test_db_absent_[0-9a-f]+" does not exist$/,
    );
  });
});
