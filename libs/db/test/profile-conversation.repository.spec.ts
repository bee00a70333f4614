import {
  ConversationRepository,
  createPrismaClient,
  migrate,
  ProfileRepository,
  type PrismaClient,
} from '../src';
import { TaskStateStore } from '../src/task-state';
import { DEFAULT_PROJECT_ID } from '../src';
import { dropDatabases, freshDatabaseUrl } from './fresh-database';

describe('ProfileRepository and ConversationRepository', () => {
  const { url, name } = freshDatabaseUrl('profiles');
  let prisma: PrismaClient;
  let profiles: ProfileRepository;
  let conversations: ConversationRepository;
  let tasks: TaskStateStore;

  beforeAll(async () => {
    await migrate(url, { log: () => undefined });
    prisma = createPrismaClient(url);
    profiles = new ProfileRepository(prisma);
    conversations = new ConversationRepository(prisma);
    tasks = new TaskStateStore(prisma);
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

  it("should give the runner a task's profile, every field as stored, in its own project", async () => {
    await prisma.project.create({ data: { id: 'proj-runner', slug: 'runner-view', name: 'Runner view' } });
    await profiles.create('proj-runner', {
      name: 'full',
      provider: 'claude',
      model: 'claude-sonnet-4-5',
      appendSystemPrompt: 'Be brief.',
      permissionMode: 'plan',
      maxTurns: 3,
      timeoutSeconds: 90,
      allowedTools: ['Read', 'Bash(git *)'],
      disallowedTools: ['WebFetch'],
      maxOutputBytes: 4096,
      resources: { requests: { cpu: '500m' } },
      mcpServers: {
        docs: { type: 'http', url: 'http://127.0.0.1:9/mcp', headers: { authorization: 'Bearer s3' } },
      },
      agents: { helper: 'content' },
      skills: { notes: 'skill' },
      internetAccess: true,
      telemetryContent: true,
      delegation: { enabled: true, profiles: ['full'], maxDepth: 2, maxChildren: 3 },
      approvals: { tools: ['Bash'], timeoutSeconds: 600 },
      warm: 2,
    });
    const task = await tasks.create({ projectId: 'proj-runner', prompt: 'x', profile: 'full' });
    const { id, profile } = await profiles.ofTaskWithId(task.id);
    // The same profile as read through Prisma, secrets included.
    expect(profile).toEqual(await profiles.byId(id));
    expect(profile).toMatchObject({
      project: 'runner-view',
      allowedTools: ['Read', 'Bash(git *)'],
      mcpServers: { docs: { headers: { authorization: 'Bearer s3' } } },
      resources: { requests: { cpu: '500m' } },
      warm: 2,
    });
    expect(profile.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    await expect(profiles.ofTask('no-such-task')).rejects.toMatchObject({ code: 'PROFILE_NOT_FOUND' });
  });

  it('should show secrets as set, keep those sent as {"set": true}, and give the runner their values', async () => {
    const created = await profiles.create(DEFAULT_PROJECT_ID, {
      name: 'secretive',
      provider: 'claude',
      mcpServers: {
        tool: { command: 'node', args: ['server.js'], env: { API_KEY: 'k-1', REGION: 'eu' } },
        docs: { type: 'http', url: 'https://mcp.example.com', headers: { Authorization: 'Bearer t-1' } },
      },
    });
    expect(created.mcpServers).toEqual({
      tool: { command: 'node', args: ['server.js'], env: { API_KEY: { set: true }, REGION: { set: true } } },
      docs: { type: 'http', url: 'https://mcp.example.com', headers: { Authorization: { set: true } } },
    });
    expect(JSON.stringify(await profiles.list(DEFAULT_PROJECT_ID))).not.toMatch(/k-1|t-1/);
    expect(created).toMatchObject({ trustRepositorySettings: false, internetAccess: false });

    // Sent back as shown, with one secret dropped and one new: kept, removed, set.
    const updated = await profiles.update(DEFAULT_PROJECT_ID, 'secretive', {
      mcpServers: {
        tool: { command: 'node', args: ['server.js'], env: { API_KEY: { set: true }, TOKEN: 'new' } },
        docs: created.mcpServers['docs']!,
      },
      internetAccess: true,
    });
    expect(updated.mcpServers['tool']).toEqual({
      command: 'node',
      args: ['server.js'],
      env: { API_KEY: { set: true }, TOKEN: { set: true } },
    });
    const task = await tasks.create({ projectId: DEFAULT_PROJECT_ID, prompt: 'x', profile: 'secretive' });
    const applied = await profiles.ofTask(task.id);
    expect(applied.mcpServers).toEqual({
      tool: { command: 'node', args: ['server.js'], env: { API_KEY: 'k-1', TOKEN: 'new' } },
      docs: { type: 'http', url: 'https://mcp.example.com', headers: { Authorization: 'Bearer t-1' } },
    });
    expect(applied).toMatchObject({ internetAccess: true, trustRepositorySettings: false });

    // A change of anything else leaves the servers alone.
    await profiles.update(DEFAULT_PROJECT_ID, 'secretive', { maxTurns: 2 });
    expect((await profiles.ofTask(task.id)).mcpServers).toEqual(applied.mcpServers);
  });

  it('should refuse to keep a secret that is not stored, or for a server that now goes elsewhere', async () => {
    const keep = { set: true } as const;
    await expect(
      profiles.create(DEFAULT_PROJECT_ID, {
        name: 'nothing-kept',
        provider: 'claude',
        mcpServers: { tool: { command: 'node', env: { API_KEY: keep } } },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'mcpServers.tool.env.API_KEY' } });

    await profiles.create(DEFAULT_PROJECT_ID, {
      name: 'moving',
      provider: 'claude',
      mcpServers: {
        docs: { type: 'http', url: 'https://mcp.example.com', headers: { Authorization: 'secret' } },
      },
    });
    const moved = profiles.update(DEFAULT_PROJECT_ID, 'moving', {
      mcpServers: {
        docs: { type: 'http', url: 'https://attacker.example', headers: { Authorization: keep } },
      },
    });
    await expect(moved).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('URL changed') as unknown,
      details: { field: 'mcpServers.docs.headers.Authorization' },
    });
    const unknownKey = profiles.update(DEFAULT_PROJECT_ID, 'moving', {
      mcpServers: { docs: { type: 'http', url: 'https://mcp.example.com', headers: { Other: keep } } },
    });
    await expect(unknownKey).rejects.toMatchObject({ details: { field: 'mcpServers.docs.headers.Other' } });
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
