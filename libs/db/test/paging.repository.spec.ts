import type { Message, TaskEvent } from '@hangar/contracts';
import {
  ConversationRepository,
  createPrismaClient,
  DEFAULT_PROJECT_ID,
  migrate,
  TaskEventRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe('pages of task events and conversation messages', () => {
  const { url, name } = freshDatabaseUrl('paging');
  let prisma: PrismaClient;
  let tasks: TaskStateStore;
  let events: TaskEventRepository;
  let conversations: ConversationRepository;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    tasks = new TaskStateStore(prisma);
    events = new TaskEventRepository(prisma);
    conversations = new ConversationRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  // Events of `sizes` characters of text each, seq 1…n.
  async function taskWithEvents(sizes: number[]): Promise<{ id: string; stored: TaskEvent[] }> {
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'paging' });
    const at = new Date().toISOString();
    const stored: TaskEvent[] = sizes.map((size, index) => ({
      taskId: task.id,
      seq: index + 1,
      at,
      type: 'assistant.text',
      data: { text: 'x'.repeat(size) },
    }));
    await events.insertBatch(stored);
    return { id: task.id, stored };
  }

  it('should stop an event page before its byte budget and continue from nextAfterSeq', async () => {
    const { id, stored } = await taskWithEvents([100, 100, 100, 30_000, 100, 100]);
    const first = await events.page(id, 0, { limit: 1000, maxBytes: 1024 });
    expect(first.items).toEqual(stored.slice(0, 3));
    expect(first.nextAfterSeq).toBe(3);
    // An event larger than the whole budget still comes, alone: a page is never empty.
    const second = await events.page(id, 3, { limit: 1000, maxBytes: 1024 });
    expect(second.items).toEqual(stored.slice(3, 4));
    expect(second.nextAfterSeq).toBe(4);
    const last = await events.page(id, 4, { limit: 1000, maxBytes: 1024 });
    expect(last).toEqual({ items: stored.slice(4), nextAfterSeq: null });
    expect(await events.page(id, 6, { limit: 1000, maxBytes: 1024 })).toEqual({
      items: [],
      nextAfterSeq: null,
    });
  });

  it('should stop an event page at its limit too, and end with null when the events fit', async () => {
    const { id, stored } = await taskWithEvents([10, 10, 10]);
    expect(await events.page(id, 0, { limit: 2, maxBytes: 1_000_000 })).toEqual({
      items: stored.slice(0, 2),
      nextAfterSeq: 2,
    });
    expect(await events.page(id, 0, { limit: 3, maxBytes: 1_000_000 })).toEqual({
      items: stored,
      nextAfterSeq: null,
    });
  });

  it('should page messages from the newest, each page oldest first, until the first message', async () => {
    const conversation = await conversations.create(DEFAULT_PROJECT_ID, {});
    const written: Message[] = [];
    for (let index = 1; index <= 5; index += 1) {
      written.push(
        await conversations.addMessage({
          conversationId: conversation.id,
          role: index % 2 ? 'user' : 'assistant',
          content: `message ${index}`,
        }),
      );
    }
    const contents = (page: { items: Message[] }) => page.items.map((message) => message.content);
    const newest = await conversations.messages(conversation.id, { limit: 2 });
    expect(contents(newest)).toEqual(['message 4', 'message 5']);
    const older = await conversations.messages(conversation.id, {
      limit: 2,
      cursor: newest.nextCursor ?? 'missing',
    });
    expect(contents(older)).toEqual(['message 2', 'message 3']);
    const oldest = await conversations.messages(conversation.id, {
      limit: 2,
      cursor: older.nextCursor ?? 'missing',
    });
    expect(oldest).toEqual({ items: [written[0]], nextCursor: null });
    await expect(conversations.messages(conversation.id, { limit: 2, cursor: 'nope' })).rejects.toMatchObject(
      {
        code: 'INVALID_CURSOR',
      },
    );
  });
});
