import {
  ApprovalRepository,
  AttemptTokenRepository,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  TaskRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe(ApprovalRepository.name, () => {
  const { url, name } = freshDatabaseUrl('approvals');
  let prisma: PrismaClient;
  let state: TaskStateStore;
  let tasks: TaskRepository;
  let approvals: ApprovalRepository;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    state = new TaskStateStore(prisma, { timeoutSeconds: 60 });
    tasks = new TaskRepository(prisma);
    approvals = new ApprovalRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  async function runningTask() {
    const task = await state.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'approvals' });
    await state.claim(task.id, 'runner-1', '/w', 1, 'bwrap');
    return task;
  }

  const ask = (taskId: string, toolUseId: string, deadline = new Date(Date.now() + 60_000)) =>
    approvals.ask({
      taskId,
      projectId: DEFAULT_PROJECT_ID,
      attempt: 1,
      tool: 'Bash',
      input: { command: 'git push' },
      toolUseId,
      rule: 'Bash(git push:*)',
      deadline,
    });

  it('should make one approval of a call however often it is asked', async () => {
    const task = await runningTask();
    const first = await ask(task.id, 'toolu_1');
    const again = await ask(task.id, 'toolu_1');
    expect(first.created).toBe(true);
    expect(again).toEqual({ approval: first.approval, created: false });
    expect(first.approval).toMatchObject({
      taskId: task.id,
      project: 'default',
      profile: 'default',
      status: 'PENDING',
      answerableBy: 'operator',
    });
  });

  it('should take one answer, before the deadline only', async () => {
    const task = await runningTask();
    const { approval } = await ask(task.id, 'toolu_1');
    const [one, two] = await Promise.all([
      approvals.answer(approval.id, { decision: 'deny', message: 'no', by: 'a@example.com' }),
      approvals.answer(approval.id, { decision: 'allow-once', message: null, by: 'b@example.com' }),
    ]);
    expect([one, two].filter((answer) => answer !== null)).toHaveLength(1);
    expect(await approvals.expire(approval.id, 'late')).toBeNull();

    const late = (await ask(task.id, 'toolu_2', new Date(Date.now() - 1))).approval;
    expect(await approvals.answer(late.id, { decision: 'allow-once', message: null, by: 'a' })).toBeNull();
    expect(await approvals.expire(late.id, 'no answer within 5s: denied')).toMatchObject({
      status: 'EXPIRED',
      message: 'no answer within 5s: denied',
    });
  });

  it('should keep an allow for the task to its rule, and expire what ended attempts left pending', async () => {
    const task = await runningTask();
    const { approval } = await ask(task.id, 'toolu_1');
    expect(await approvals.allowedForTask(task.id, 'Bash(git push:*)')).toBeNull();
    await approvals.answer(approval.id, { decision: 'allow-task', message: null, by: 'a' });
    expect(await approvals.allowedForTask(task.id, 'Bash(git push:*)')).toMatchObject({ id: approval.id });
    expect(await approvals.allowedForTask(task.id, 'Bash(rm:*)')).toBeNull();

    const pending = (await ask(task.id, 'toolu_2')).approval;
    const expired = await approvals.expireAttempts(task.id, 1, 'the attempt ended');
    expect(expired.map((one) => one.id)).toEqual([pending.id]);
    expect(await approvals.get(pending.id)).toMatchObject({
      status: 'EXPIRED',
      message: 'the attempt ended',
      answeredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    // An answered one stays as answered; a later attempt's is not this attempt's to expire.
    expect((await approvals.get(approval.id))?.status).toBe('ALLOWED');
    expect(await approvals.expireAttempts(task.id, 1, 'again')).toEqual([]);
  });

  it('should count overlapping waits once, and the wait under way until now', async () => {
    const task = await runningTask();
    const at = (ms: number) => new Date(Date.parse('2026-12-05T10:00:00Z') + ms);
    await prisma.approval.createMany({
      data: [
        [0, 1000],
        [500, 2000],
        [5000, 6000],
        [7000, null],
      ].map(([from, to], index) => ({
        taskId: task.id,
        projectId: DEFAULT_PROJECT_ID,
        attempt: 1,
        tool: 'Bash',
        input: {},
        toolUseId: `toolu_${index}`,
        rule: 'Bash',
        status: to === null ? 'PENDING' : 'ALLOWED',
        deadline: at(60_000),
        createdAt: at(from!),
        answeredAt: to === null ? null : at(to!),
      })),
    });
    expect(await approvals.waitedMs(task.id, 1, at(7500))).toBe(2000 + 1000 + 500);
    expect(await approvals.waitedMs(task.id, 2, at(7500))).toBe(0);
  });

  it('should mark the running task as waiting, and clear it when none of its approvals is pending', async () => {
    const task = await runningTask();
    const { approval } = await ask(task.id, 'toolu_1');
    const deadline = new Date(approval.deadline);
    expect(await state.markWaitingForApproval(task.id, 2, deadline)).toBeNull();
    expect((await state.markWaitingForApproval(task.id, 1, deadline))?.waiting).toEqual({
      reason: 'approval',
      until: approval.deadline,
    });
    await state.clearApprovalWaiting(task.id);
    expect((await tasks.find(task.id))?.waiting).not.toBeNull();
    await approvals.answer(approval.id, { decision: 'allow-once', message: null, by: 'a' });
    await state.clearApprovalWaiting(task.id);
    expect((await tasks.find(task.id))?.waiting).toBeNull();
  });

  it("should give the attempt's credential the time it waited", async () => {
    const task = await runningTask();
    const tokens = new AttemptTokenRepository(prisma);
    const expiresAt = new Date(Date.now() + 60_000);
    await tokens.issue({ taskId: task.id, attempt: 1, provider: 'claude', expiresAt });
    await tokens.extend(task.id, 1, 90_000);
    const [row] = await prisma.attemptToken.findMany({ where: { taskId: task.id } });
    expect(row!.expiresAt.getTime()).toBe(expiresAt.getTime() + 90_000);
  });
});
