import {
  AttemptTokenRepository,
  DEFAULT_PROJECT_ID,
  hashAttemptToken,
  newAttemptToken,
  WarmPodRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { migratedDatabase } from './fresh-database';

describe(WarmPodRepository.name, () => {
  const database = migratedDatabase('warm_pods');
  let prisma: PrismaClient;
  let tasks: TaskStateStore;
  let pods: WarmPodRepository;
  let tokens: AttemptTokenRepository;
  const inAnHour = () => new Date(Date.now() + 3_600_000);
  let jobs = 0;

  beforeAll(() => {
    prisma = database.prisma;
    tasks = new TaskStateStore(prisma, { timeoutSeconds: 60 });
    pods = new WarmPodRepository(prisma);
    tokens = new AttemptTokenRepository(prisma);
  });

  async function warmPod(expiresAt = inAnHour()) {
    jobs += 1;
    const jobName = `hangar-warm-${jobs}`;
    const token = await pods.issue({
      jobName,
      profileId: 'profile-1',
      profileVersion: new Date(0),
      expiresAt,
    });
    return { jobName, token };
  }

  const grant = (taskId: string) => ({ taskId, attempt: 1, provider: 'claude', expiresAt: inAnHour() });

  it("should know a warm pod by its own credential, stored only as its hash, and nothing else's", async () => {
    const { jobName, token } = await warmPod();
    expect(token).toMatch(/^hgw_[A-Za-z0-9_-]{43}$/);
    expect(await pods.check(token)).toEqual({
      ok: true,
      pod: { jobName, profileId: 'profile-1', profileVersion: new Date(0), ready: false, assignment: null },
    });
    expect(JSON.stringify(await prisma.warmPod.findMany({}))).not.toContain(token);
    // Not an attempt's credential, and an attempt's is not a warm pod's.
    expect(await tokens.check(token, { claimable: true })).toEqual({ ok: false, refusal: 'unknown' });
    expect(await pods.check(newAttemptToken())).toEqual({ ok: false, refusal: 'unknown' });
    expect(await pods.check(`${token}x`)).toEqual({ ok: false, refusal: 'unknown' });
    const expired = await warmPod(new Date(Date.now() - 1000));
    expect(await pods.check(expired.token)).toEqual({ ok: false, refusal: 'expired' });
  });

  it("should give a ready pod one attempt, issuing it the credential the pod's CLI started with", async () => {
    const { jobName } = await warmPod();
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'warm' });
    // Not ready: nothing to give.
    expect(await pods.assign(jobName, grant(task.id))).toBe(false);
    const cli = newAttemptToken();
    expect(await pods.ready(jobName, hashAttemptToken(cli))).toBe(true);
    expect(await pods.ready(jobName, hashAttemptToken(cli))).toBe(true);
    // Once reported, another credential is refused.
    expect(await pods.ready(jobName, hashAttemptToken(newAttemptToken()))).toBe(false);
    expect(await pods.readyJobs([jobName, 'hangar-warm-none'])).toEqual([jobName]);
    // The CLI's credential is nobody's until then.
    expect(await tokens.check(cli, { claimable: true })).toEqual({ ok: false, refusal: 'unknown' });

    expect(await pods.assign(jobName, grant(task.id))).toBe(true);
    expect((await pods.get(jobName))?.assignment).toEqual({ taskId: task.id, attempt: 1 });
    expect(await tokens.check(cli, { claimable: true })).toMatchObject({
      ok: true,
      grant: { taskId: task.id, attempt: 1, runnerId: jobName },
    });
    // Never twice, and no longer ready; nor retired once given.
    const other = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'another' });
    expect(await pods.assign(jobName, grant(other.id))).toBe(false);
    expect(await pods.readyJobs([jobName])).toEqual([]);
    expect(await pods.retire(jobName)).toBe(false);
  });

  it('should retire an idle pod and refuse its credential from then on', async () => {
    const { jobName, token } = await warmPod();
    await pods.ready(jobName, hashAttemptToken(newAttemptToken()));
    expect(await pods.retire(jobName)).toBe(true);
    expect(await pods.check(token)).toEqual({ ok: false, refusal: 'revoked' });
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'too late' });
    expect(await pods.assign(jobName, grant(task.id))).toBe(false);
    expect(await pods.get(jobName)).toBeNull();
  });
});
