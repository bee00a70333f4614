import {
  ConversationRepository,
  createPrismaClient,
  migrate,
  ProfileRepository,
  TaskRepository,
  type PrismaClient,
} from '../src';
import { DEFAULT_PROJECT_ID } from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe('ProfileRepository and ConversationRepository', () => {
  const { url, name } = freshDatabaseUrl('profiles');
  let prisma: PrismaClient;
  let profiles: ProfileRepository;
  let conversations: ConversationRepository;
  let tasks: TaskRepository;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    profiles = new ProfileRepository(prisma);
    conversations = new ConversationRepository(prisma);
    tasks = new TaskRepository(prisma);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabases([name]);
  });

  it('should store every profile field and give tasks its timeout', async () => {
    const created = await profiles.create(DEFAULT_PROJECT_ID, {
      name: 'fast',
      provider: 'claude',
      timeoutSeconds: 42,
      allowedTools: ['Read'],
      mcpServers: { docs: { type: 'http', url: 'http://127.0.0.1:9/mcp' } },
      agents: { helper: 'content' },
      skills: { notes: 'skill' },
    });
    expect(created).toMatchObject({
      name: 'fast',
      timeoutSeconds: 42,
      agents: { helper: 'content' },
      skills: { notes: 'skill' },
    });
    expect(await profiles.get(DEFAULT_PROJECT_ID, 'fast')).toEqual(created);
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'x', profile: 'fast' });
    expect(task).toMatchObject({ profile: 'fast', timeoutSeconds: 42 });
    await expect(profiles.delete(DEFAULT_PROJECT_ID, 'fast')).rejects.toMatchObject({
      code: 'PROFILE_IN_USE',
    });
    await expect(
      profiles.create(DEFAULT_PROJECT_ID, { name: 'fast', provider: 'claude' }),
    ).rejects.toMatchObject({
      code: 'PROFILE_EXISTS',
    });
    await expect(profiles.update(DEFAULT_PROJECT_ID, 'ghost', { maxTurns: 1 })).rejects.toMatchObject({
      code: 'PROFILE_NOT_FOUND',
    });
  });

  it('should keep the session transcript byte for byte and know the unfinished turn', async () => {
    const conversation = await conversations.create(DEFAULT_PROJECT_ID, { title: 'chat' });
    const transcript = Buffer.from('{"type":"user"}\n{"type":"assistant","é":"ü"}\n', 'utf8');
    await conversations.saveSession(conversation.id, {
      sessionId: 's-1',
      relativePath: 'projects/-w/s-1.jsonl',
      transcript,
    });
    const loaded = await conversations.loadSession(conversation.id);
    expect(loaded?.transcript.equals(transcript)).toBe(true);
    expect((await conversations.get(conversation.id)).agentSessionId).toBe('s-1');

    const turn = await tasks.create({
      projectId: DEFAULT_PROJECT_ID,
      prompt: 'hi',
      conversationId: conversation.id,
    });
    expect(await conversations.activeTaskId(conversation.id)).toBe(turn.id);
    await tasks.cancelQueued(turn.id);
    expect(await conversations.activeTaskId(conversation.id)).toBeNull();
  });

  it('should start one turn of a conversation when two arrive at the same instant', async () => {
    const conversation = await conversations.create(DEFAULT_PROJECT_ID, { title: 'race' });
    const turn = () =>
      tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'now', conversationId: conversation.id });
    const results = await Promise.allSettled([turn(), turn(), turn()]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((result) => result.status === 'rejected')) {
      expect(result.reason).toMatchObject({ code: 'CONVERSATION_BUSY' });
    }
    // Once it has finished, the next turn may start.
    const started = results.find((result) => result.status === 'fulfilled')!;
    await tasks.cancelQueued(started.value.id);
    await expect(turn()).resolves.toMatchObject({ status: 'QUEUED' });
  });
});
