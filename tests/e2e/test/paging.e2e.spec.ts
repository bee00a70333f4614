import type {
  AgentEventOf,
  Conversation,
  ConversationTurn,
  MessagePage,
  Problem,
  TaskEvent,
  TaskEventPage,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, request } from './support';

const EVENT_CAP = 64 * 1024;

// What a client reading history over REST gets: pages bounded in bytes as well as in count, and
// conversations read from their newest messages back. The runner keeps one output line to
// EVENT_CAP bytes, so an agent printing a megabyte on one line is stored truncated.
describe('paging', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('paging', { RUNNER_MAX_EVENT_BYTES: String(EVENT_CAP) });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  async function finish(taskId: string): Promise<TaskEvent[]> {
    const follower = follow(stack, taskId);
    const events = await follower.finished;
    follower.close();
    return events;
  }

  async function eventPage(taskId: string, query: string): Promise<TaskEventPage> {
    const answer = await request(stack, 'GET', `/api/v1/tasks/${taskId}/events?${query}`);
    expect(answer.status).toBe(200);
    return answer.body as TaskEventPage;
  }

  it('should store a megabyte line truncated with its size, and page the events within a byte budget', async () => {
    const task = await createTask(stack, { prompt: 'say a lot', scenario: 'big-output' });
    const live = await finish(task.id);

    // The CLI printed the megabyte reply on one stdout line (twice: the message and the result).
    const truncated = live.filter(
      (event): event is TaskEvent & AgentEventOf<'output.truncated'> => event.type === 'output.truncated',
    );
    expect(truncated.length).toBeGreaterThanOrEqual(1);
    for (const event of truncated) {
      expect(event.data.stream).toBe('stdout');
      expect(event.data.bytes).toBeGreaterThan(1_000_000);
      expect(Buffer.byteLength(event.data.head)).toBe(EVENT_CAP);
    }

    // Everything in one page when the budget allows it (the default, 4 MiB).
    const whole = await eventPage(task.id, 'afterSeq=0');
    expect(whole).toEqual({ items: live, nextAfterSeq: null });

    // A budget of two truncated lines: each page stops before it, and nextAfterSeq goes on.
    const budget = 2 * EVENT_CAP;
    const pages: TaskEventPage[] = [];
    for (let afterSeq: number | null = 0; afterSeq !== null;) {
      const page = await eventPage(task.id, `afterSeq=${afterSeq}&maxBytes=${budget}`);
      pages.push(page);
      expect(page.items.length).toBeGreaterThan(0);
      if (page.items.length > 1) expect(JSON.stringify(page.items).length).toBeLessThanOrEqual(budget);
      afterSeq = page.nextAfterSeq;
      if (afterSeq !== null) expect(afterSeq).toBe(page.items.at(-1)!.seq);
    }
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((page) => page.items)).toEqual(live);

    // The count limit still applies.
    const two = await eventPage(task.id, 'afterSeq=0&limit=2');
    expect(two).toEqual({ items: live.slice(0, 2), nextAfterSeq: 2 });
  });

  it.each([
    ['maxBytes=10', 'maxBytes'],
    ['maxBytes=999999999', 'maxBytes'],
  ])('should refuse events?%s with 400 naming %s', async (query, field) => {
    const task = await createTask(stack, { prompt: 'hello', scenario: 'reply' });
    const answer = await request(stack, 'GET', `/api/v1/tasks/${task.id}/events?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect((answer.body as Problem).errors?.map((error) => error.field)).toContain(field);
  });

  it('should page a conversation from its newest messages back to its first', async () => {
    const created = await request(stack, 'POST', '/api/v1/conversations', {
      message: 'turn 1',
      scenario: 'reply',
    });
    expect(created.status).toBe(201);
    const { conversation, turn } = created.body as { conversation: Conversation; turn: ConversationTurn };
    await finish(turn.task.id);
    for (const content of ['turn 2', 'turn 3']) {
      const next = await request(stack, 'POST', `/api/v1/conversations/${conversation.id}/messages`, {
        content,
        scenario: 'reply',
      });
      expect(next.status).toBe(201);
      await finish((next.body as ConversationTurn).task.id);
    }
    const path = `/api/v1/conversations/${conversation.id}/messages`;
    const read = async (query: string) => {
      const answer = await request(stack, 'GET', `${path}?${query}`);
      expect(answer.status).toBe(200);
      return answer.body as MessagePage;
    };
    const said = (page: MessagePage) =>
      page.items.map((message) => (message.role === 'user' ? message.content : 'answer'));

    // Six messages fit the default page (50): oldest first, nothing older.
    const all = await read('');
    expect(said(all)).toEqual(['turn 1', 'answer', 'turn 2', 'answer', 'turn 3', 'answer']);
    expect(all.nextCursor).toBeNull();

    const newest = await read('limit=4');
    expect(said(newest)).toEqual(['turn 2', 'answer', 'turn 3', 'answer']);
    expect(newest.nextCursor).toEqual(expect.any(String));
    const older = await read(`limit=4&cursor=${encodeURIComponent(newest.nextCursor!)}`);
    expect(said(older)).toEqual(['turn 1', 'answer']);
    expect(older.nextCursor).toBeNull();
    expect([...older.items, ...newest.items]).toEqual(all.items);

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['cursor=not-ours', 'cursor'],
    ] as const) {
      const refused = await request(stack, 'GET', `${path}?${query}`);
      expect(refused.status).toBe(400);
      expect((refused.body as Problem).errors?.map((error) => error.field)).toContain(field);
    }
  });
});
