import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentProfile, Problem } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, request } from './support';

const reviewer = {
  name: 'reviewer',
  provider: 'claude',
  appendSystemPrompt: 'You review code. Be brief.',
  allowedTools: ['Bash', 'Read'],
  disallowedTools: ['WebFetch'],
  permissionMode: 'dontAsk',
  maxTurns: 7,
  timeoutSeconds: 120,
  mcpServers: { notes: { command: 'node', args: ['-e', 'setTimeout(() => {}, 1)'] } },
  agents: { 'style-checker': '---\nname: style-checker\ndescription: Checks style\n---\nCheck the style.\n' },
  skills: {
    'release-notes': '---\nname: release-notes\ndescription: Writes release notes\n---\nWrite them.\n',
  },
};

describe('agent profiles', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('profiles');
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('should create, read, change, list and delete a profile', async () => {
    const created = await request(stack, 'POST', '/api/v1/profiles', { ...reviewer, name: 'scratch' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'scratch',
      permissionMode: 'dontAsk',
      allowedTools: ['Bash', 'Read'],
    });

    expect(created.body).toMatchObject({ resources: null });
    const changed = await request(stack, 'PATCH', '/api/v1/profiles/scratch', {
      maxTurns: 3,
      model: 'claude-opus-5-5',
      resources: { requests: { cpu: '2' }, limits: { memory: '8Gi' } },
    });
    expect(changed.body).toMatchObject({
      maxTurns: 3,
      model: 'claude-opus-5-5',
      appendSystemPrompt: reviewer.appendSystemPrompt,
      resources: { requests: { cpu: '2' }, limits: { memory: '8Gi' } },
    });
    const cleared = await request(stack, 'PATCH', '/api/v1/profiles/scratch', { resources: null });
    expect(cleared.body).toMatchObject({ resources: null, maxTurns: 3 });

    const list = (await request(stack, 'GET', '/api/v1/profiles')).body as { items: AgentProfile[] };
    expect(list.items.map((profile) => profile.name)).toEqual(expect.arrayContaining(['default', 'scratch']));

    expect((await request(stack, 'POST', '/api/v1/profiles', { ...reviewer, name: 'scratch' })).status).toBe(
      409,
    );
    expect((await request(stack, 'DELETE', '/api/v1/profiles/scratch')).status).toBe(204);
    expect((await request(stack, 'GET', '/api/v1/profiles/scratch')).status).toBe(404);
  });

  it('should refuse bad profiles naming each field, and keep the default and profiles in use', async () => {
    const bad = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'Has Spaces',
      provider: 'gpt',
      permissionMode: 'yolo',
      mcpServers: { broken: { args: ['x'] } },
      resources: { limits: { memory: 'lots' }, requests: { cpu: '1' }, burst: {} },
    });
    expect(bad.status).toBe(400);
    const fields = (bad.body as Problem).errors?.map((error) => error.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'provider',
        'permissionMode',
        'mcpServers.broken',
        'resources.limits.memory',
        'resources',
      ]),
    );

    const deleteDefault = await request(stack, 'DELETE', '/api/v1/profiles/default');
    expect(deleteDefault.status).toBe(409);
    expect((deleteDefault.body as Problem).code).toBe('PROFILE_IN_USE');

    const unknown = await request(stack, 'POST', '/api/v1/tasks', { prompt: 'hi', profile: 'nobody' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'UNKNOWN_PROFILE' });
  });

  it("should hand the profile's tools, permission mode, system prompt, MCP config and agent files to the CLI", async () => {
    expect((await request(stack, 'POST', '/api/v1/profiles', reviewer)).status).toBe(201);
    const task = await createTask(stack, { prompt: 'review this', profile: 'reviewer', scenario: 'slow' });
    expect(task.timeoutSeconds).toBe(120);
    const follower = follow(stack, task.id);
    await follower.waitFor((event) => event.type === 'tool.use');

    // What the CLI process really received, read from the process table.
    const workspace = path.join(stack.workspaceRoot, task.id);
    const [cli] = stack.agentsIn(workspace);
    expect(cli).toBeDefined();
    const argv = readFileSync(`/proc/${cli}/cmdline`, 'utf8').split('\0');
    const after = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect(after('--permission-mode')).toBe('dontAsk');
    expect(after('--append-system-prompt')).toBe(reviewer.appendSystemPrompt);
    expect(after('--max-turns')).toBe('7');
    expect(argv.slice(argv.indexOf('--allowedTools') + 1, argv.indexOf('--allowedTools') + 3)).toEqual([
      'Bash',
      'Read',
    ]);
    expect(after('--disallowedTools')).toBe('WebFetch');
    const mcpConfig = JSON.parse(readFileSync(after('--mcp-config')!, 'utf8')) as unknown;
    expect(mcpConfig).toEqual({ mcpServers: reviewer.mcpServers });
    expect(readFileSync(path.join(workspace, '.claude/agents/style-checker.md'), 'utf8')).toBe(
      reviewer.agents['style-checker'],
    );
    expect(readFileSync(path.join(workspace, '.claude/skills/release-notes/SKILL.md'), 'utf8')).toBe(
      reviewer.skills['release-notes'],
    );

    // The allowed Bash tool ran under dontAsk: the agent is at work, not refused.
    const init = follower.events.find((event) => event.type === 'system.init');
    expect(init).toMatchObject({ data: { permissionMode: 'dontAsk' } });
    await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    await follower.finished;
    follower.close();
  });
});
