import type {
  AgentEventOf,
  Conversation,
  ConversationTurn,
  Message,
  Problem,
  TaskEvent,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { follow, getTask, request } from './support';

async function finish(stack: ServiceStack, taskId: string): Promise<TaskEvent[]> {
  const follower = follow(stack, taskId);
  const events = await follower.finished;
  follower.close();
  return events;
}

const sessionOf = (events: TaskEvent[]) =>
  events.find((event): event is TaskEvent & AgentEventOf<'system.init'> => event.type === 'system.init')?.data
    .sessionId;

describe('conversations', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('conversations');
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should continue the same agent session on the next message, even on a restarted runner', async () => {
    const created = await request(stack, 'POST', '/api/v1/conversations', {
      title: 'secrets',
      message: 'Remember a word for me.',
      scenario: 'remember',
    });
    expect(created.status).toBe(201);
    const { conversation, turn } = created.body as { conversation: Conversation; turn: ConversationTurn };
    const firstEvents = await finish(stack, turn.task.id);
    const first = await getTask(stack, turn.task.id);
    expect(first.status).toBe('COMPLETED');
    expect(first.result).toContain('PAPAYA');
    const session = sessionOf(firstEvents);
    expect(session).toBe(first.agentSessionId);

    // The runner that ran the first turn is gone; a new one must resume from Postgres alone.
    await stack.stop('agent-runner', 'SIGKILL');
    await stack.start(['agent-runner']);

    const second = await request(stack, 'POST', `/api/v1/conversations/${conversation.id}/messages`, {
      content: 'What was the word?',
      scenario: 'remember',
    });
    expect(second.status).toBe(201);
    const secondTurn = second.body as ConversationTurn;
    const secondEvents = await finish(stack, secondTurn.task.id);
    const answered = await getTask(stack, secondTurn.task.id);
    expect(answered.status).toBe('COMPLETED');
    // The CLI resumed the same session: it says so, and it knew what the first turn said.
    expect(sessionOf(secondEvents)).toBe(session);
    // (A fresh session would start the scenario over and say the word again instead.)
    expect(answered.result).toBe('Earlier I said: "The secret word is PAPAYA."');
    expect(answered.workspace).toBe(first.workspace);

    const messages = (await request(stack, 'GET', `/api/v1/conversations/${conversation.id}/messages`))
      .body as { items: Message[] };
    expect(messages.items.map((message) => [message.role, message.taskId])).toEqual([
      ['user', first.id],
      ['assistant', first.id],
      ['user', answered.id],
      ['assistant', answered.id],
    ]);
    expect(messages.items[3]?.content).toBe(answered.result);
    const stored = (await request(stack, 'GET', `/api/v1/conversations/${conversation.id}`))
      .body as Conversation;
    expect(stored.agentSessionId).toBe(session);
  });

  it('should refuse a message while the previous turn still runs, and unknown conversations', async () => {
    const created = (
      await request(stack, 'POST', '/api/v1/conversations', { message: 'take your time', scenario: 'slow' })
    ).body as { conversation: Conversation; turn: ConversationTurn };
    const busy = await request(stack, 'POST', `/api/v1/conversations/${created.conversation.id}/messages`, {
      content: 'and now?',
    });
    expect(busy.status).toBe(409);
    expect((busy.body as Problem).code).toBe('CONVERSATION_BUSY');
    await request(stack, 'POST', `/api/v1/tasks/${created.turn.task.id}/cancel`);
    await finish(stack, created.turn.task.id);

    expect(
      (await request(stack, 'POST', '/api/v1/conversations/nope/messages', { content: 'hi' })).status,
    ).toBe(404);
    expect(
      (
        await request(stack, 'POST', `/api/v1/conversations/${created.conversation.id}/messages`, {
          content: '',
        })
      ).status,
    ).toBe(400);
  });
});
