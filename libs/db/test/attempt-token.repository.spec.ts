import {
  AttemptTokenRepository,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  hashAttemptToken,
  migrate,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe(AttemptTokenRepository.name, () => {
  const { url, name } = freshDatabaseUrl('attempt_tokens');
  let prisma: PrismaClient;
  let tasks: TaskStateStore;
  let tokens: AttemptTokenRepository;
  const inAnHour = () => new Date(Date.now() + 3_600_000);

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    tasks = new TaskStateStore(prisma, { timeoutSeconds: 60 });
    tokens = new AttemptTokenRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  // A token of `attempt`, good for an hour.
  const issue = (taskId: string, attempt: number) =>
    tokens.issue({ taskId, attempt, provider: 'claude', expiresAt: inAnHour() });

  async function runningTask() {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'tokens' });
    await tasks.claim(task.id, 'runner-1', '/w', 1, 'bwrap');
    return task;
  }

  it('should grant the attempt it was issued for, and store only its hash', async () => {
    const task = await runningTask();
    const token = await issue(task.id, 1);
    expect(token).toMatch(/^hga_[A-Za-z0-9_-]{43}$/);
    const check = await tokens.check(token);
    expect(check).toMatchObject({
      ok: true,
      grant: {
        taskId: task.id,
        attempt: 1,
        provider: 'claude',
        task: { status: 'RUNNING', sandbox: 'bwrap' },
      },
    });
    const rows = await prisma.attemptToken.findMany({ where: { taskId: task.id } });
    expect(rows.map((row) => row.tokenHash)).toEqual([hashAttemptToken(token)]);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('should refuse a token nobody issued, an expired one and a revoked one', async () => {
    const task = await runningTask();
    expect(await tokens.check('hga_made-up')).toEqual({ ok: false, refusal: 'unknown' });
    expect(await tokens.check('Bearer nonsense')).toEqual({ ok: false, refusal: 'unknown' });
    const expired = await tokens.issue({
      taskId: task.id,
      attempt: 1,
      provider: 'claude',
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(await tokens.check(expired)).toEqual({ ok: false, refusal: 'expired' });
    const revoked = await issue(task.id, 1);
    // Every token of the attempt still live: the expired one too.
    expect(await tokens.revoke(task.id, 1)).toBe(2);
    expect(await tokens.check(revoked)).toEqual({ ok: false, refusal: 'revoked' });
  });

  it('should refuse the token of an attempt that ended, even when its revocation was lost', async () => {
    const task = await runningTask();
    const first = await issue(task.id, 1);
    // The runner was lost: the orchestrator requeued the task, and the next attempt started.
    await tasks.requeue(task.id, 'runner-1', 'runner-lost: test');
    expect(await tokens.check(first)).toEqual({ ok: false, refusal: 'attempt-ended' });
    await tasks.claim(task.id, 'runner-2', '/w', 2);
    const second = await issue(task.id, 2);
    expect(await tokens.check(first)).toEqual({ ok: false, refusal: 'attempt-ended' });
    expect(await tokens.check(second)).toMatchObject({ ok: true, grant: { attempt: 2 } });
    await tasks.finish(task.id, 'runner-2', { status: 'COMPLETED', error: null });
    expect(await tokens.check(second)).toEqual({ ok: false, refusal: 'attempt-ended' });
  });

  it('should let a task pod claim with its token only while the task waits for that attempt', async () => {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'a pod' });
    const token = await issue(task.id, 1);
    expect(await tokens.check(token)).toEqual({ ok: false, refusal: 'attempt-ended' });
    expect(await tokens.check(token, { claimable: true })).toMatchObject({ ok: true });
    const other = await issue(task.id, 2);
    expect(await tokens.check(other, { claimable: true })).toEqual({ ok: false, refusal: 'attempt-ended' });
  });

  // For the agents' last telemetry only: a task is told finished at its agent's result, and the
  // CLI exports as it exits, until the runner revokes the credential.
  it('should grant an ended attempt with `ended` only until it is revoked, and never a requeued or later one', async () => {
    const task = await runningTask();
    const token = await issue(task.id, 1);
    await tasks.finish(task.id, 'runner-1', { status: 'COMPLETED', error: null });
    expect(await tokens.check(token)).toEqual({ ok: false, refusal: 'attempt-ended' });
    expect(await tokens.check(token, { ended: true })).toMatchObject({
      ok: true,
      grant: { attempt: 1, task: { status: 'COMPLETED' } },
    });
    await tokens.revoke(task.id, 1);
    expect(await tokens.check(token, { ended: true })).toEqual({ ok: false, refusal: 'revoked' });

    const requeued = await runningTask();
    const lost = await issue(requeued.id, 1);
    await tasks.requeue(requeued.id, 'runner-1', 'runner-lost: test');
    expect(await tokens.check(lost, { ended: true })).toEqual({ ok: false, refusal: 'attempt-ended' });
    await tasks.claim(requeued.id, 'runner-2', '/w', 2);
    await tasks.finish(requeued.id, 'runner-2', { status: 'FAILED', error: 'x' });
    expect(await tokens.check(lost, { ended: true })).toEqual({ ok: false, refusal: 'attempt-ended' });
  });
});
