import type { TaskEventPage } from '@hangar/contracts';
import { createPrismaClient, type PrismaClient } from '@hangar/db';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, request, runTask } from './support';

// The scripted model's per-key rate limits (libs/agents README): what a test makes a key suffer.
interface KeyCalls {
  calls: Record<string, { refused: number; served: number }>;
}

// A pool of two Claude credentials (two fake keys) in front of the scripted model, which rate
// limits one key, then both (docs/governance.md): calls move to the key that is not limited
// before the CLI sees a refusal; with every key limited, new tasks wait QUEUED with
// `provider-quota`, no CLI started for them, and start once the reset time has passed.
describe('governance: credential pools and provider quota', () => {
  let stack: ServiceStack;
  let prisma: PrismaClient;
  let scripted: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('credential-pools', {
      MODEL_CREDENTIALS: JSON.stringify({
        claude: [
          { name: 'key-a', key: 'fake-key-a' },
          { name: 'key-b', key: 'fake-key-b' },
        ],
      }),
    });
    await stack.start();
    prisma = createPrismaClient(stack.database.url);
    scripted = `http://127.0.0.1:${stack.ports.get('scripted-model')}/_scripted/rate-limits`;
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await stack?.dispose();
  });

  const limit = async (key: string, forMs: number) => {
    const response = await fetch(scripted, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key, forMs }),
    });
    expect(response.status).toBe(200);
  };
  // A sample of the runner's /metrics (0 when it has none yet).
  const sample = async (name: string, labels: string) => {
    const metrics = await (await fetch(`http://127.0.0.1:${stack.ports.get('agent-runner')}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find(
        (candidate) =>
          candidate.startsWith(`${name}{`) && labels.split(',').every((label) => candidate.includes(label)),
      );
    return Number(line?.split(' ').at(-1) ?? 0);
  };
  const rests = () => sample('hangar_model_credential_rests_total', 'credential="key-a",status="429"');
  const keyCalls = async () => ((await (await fetch(scripted)).json()) as KeyCalls).calls;
  const eventsOf = async (id: string) =>
    ((await request(stack, 'GET', `/api/v1/tasks/${id}/events`)).body as TaskEventPage).items;

  it('holds new tasks QUEUED with provider-quota while every key is limited, and starts them at the reset', async () => {
    // Both keys limited for a few seconds; a task's first call finds it out (and gets the
    // refusal: no key is left; its CLI retries after the reset).
    const before = await keyCalls();
    const refused = (counts: KeyCalls['calls'], key: string) => counts[key]?.refused ?? 0;
    const limitedAt = Date.now();
    await Promise.all([limit('fake-key-a', 6000), limit('fake-key-b', 6000)]);
    const first = await createTask(stack, { prompt: 'hello', scenario: 'reply' });
    const firstFollower = follow(stack, first.id);
    await waitUntilAsync(async () => {
      const counts = await keyCalls();
      return (
        refused(counts, 'fake-key-a') > refused(before, 'fake-key-a') &&
        refused(counts, 'fake-key-b') > refused(before, 'fake-key-b')
      );
    }, 10_000);

    // Tasks submitted now wait: QUEUED, saying why and until when; no attempt starts.
    const held = await Promise.all([
      createTask(stack, { prompt: 'one', scenario: 'reply' }),
      createTask(stack, { prompt: 'two', scenario: 'reply' }),
    ]);
    const followers = held.map((task) => follow(stack, task.id));
    // Each says so live: a task.status event, still QUEUED, with the reason.
    const said = await Promise.all(
      followers.map((follower) =>
        follower.waitFor(
          (event) => event.type === 'task.status' && event.data.reason?.startsWith('provider-quota') === true,
        ),
      ),
    );
    for (const event of said) expect(event.data).toMatchObject({ status: 'QUEUED' });
    const waiting = await Promise.all(held.map((task) => getTask(stack, task.id)));
    for (const task of waiting) {
      expect(task).toMatchObject({ status: 'QUEUED', attempts: 0, waiting: { reason: 'provider-quota' } });
      expect(Date.parse(task.waiting!.until!)).toBeGreaterThan(Date.now());
    }
    const until = Date.parse(waiting[0]!.waiting!.until!);
    expect(until).toBeGreaterThanOrEqual(limitedAt + 5000);

    // At the reset they start, once each, and complete; so does the first.
    await Promise.all([firstFollower.finished, ...followers.map((follower) => follower.finished)]);
    firstFollower.close();
    for (const follower of followers) follower.close();
    for (const task of held) {
      const ended = await getTask(stack, task.id);
      expect(ended).toMatchObject({ status: 'COMPLETED', attempts: 1, waiting: null });
      // No CLI started for it before the quota was back: its only attempt began after.
      expect(Date.parse(ended.startedAt!)).toBeGreaterThanOrEqual(until);
    }
    expect((await getTask(stack, first.id)).status).toBe('COMPLETED');
  });

  it('moves calls off a rate-limited key to the other, before the CLI sees a refusal', async () => {
    // key-a goes first (the pool's first, when none is busier): it is the one limited (longer
    // than the task takes; this test is the file's last).
    const before = (await keyCalls())['fake-key-a'] ?? { refused: 0, served: 0 };
    const restsBefore = await rests();
    await limit('fake-key-a', 120_000);
    const done = await runTask(stack, { prompt: 'edit the file', scenario: 'edit-file' });
    expect(done.status).toBe('COMPLETED');
    // Every call the task made was answered with key-b; the CLI never had to retry.
    const calls = await prisma.modelCall.findMany({ where: { taskId: done.id } });
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(new Set(calls.map((call) => `${call.credential} ${call.status}`))).toEqual(new Set(['key-b 200']));
    expect((await eventsOf(done.id)).filter((event) => event.type === 'api.retry')).toHaveLength(0);
    // key-a was tried once: it rests after its refusal, until the reset its answer named.
    const after = (await keyCalls())['fake-key-a']!;
    expect({ refused: after.refused - before.refused, served: after.served - before.served }).toEqual({
      refused: 1,
      served: 0,
    });
    // The runner's metrics say which key answered, and which was rested.
    expect((await rests()) - restsBefore).toBe(1);
    expect(
      await sample('hangar_model_calls_total', 'credential="key-b",status="200"'),
    ).toBeGreaterThanOrEqual(1);
  });
});

async function waitUntilAsync(holds: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
