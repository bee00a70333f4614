import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentProfileView, AuditPage, Problem, User } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, request, signIn } from './support';

const reviewer = {
  name: 'reviewer',
  provider: 'claude',
  appendSystemPrompt: 'You review code. Be brief.',
  allowedTools: ['Bash', 'Read'],
  disallowedTools: ['WebFetch'],
  permissionMode: 'dontAsk',
  maxTurns: 7,
  timeoutSeconds: 120,
  mcpServers: {
    notes: { command: 'node', args: ['-e', 'setTimeout(() => {}, 1)'], env: { NOTES_KEY: 'nk-secret-1' } },
    docs: { type: 'http', url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer dk-secret-2' } },
  },
  agents: { 'style-checker': '---\nname: style-checker\ndescription: Checks style\n---\nCheck the style.\n' },
  skills: {
    'release-notes': '---\nname: release-notes\ndescription: Writes release notes\n---\nWrite them.\n',
  },
};

const SECRETS = /nk-secret|dk-secret/;

describe('agent profiles', () => {
  let stack: ServiceStack;
  // Signed-in users of the default project: an instance administrator, an admin, a viewer.
  let instanceAdmin: Record<string, string>;
  let projectAdmin: Record<string, string>;
  let viewer: Record<string, string>;

  async function member(name: string, role: 'admin' | 'viewer'): Promise<Record<string, string>> {
    const password = `${name}-password-1`;
    const user = await request(
      stack,
      'POST',
      '/api/v1/users',
      { email: `${name}@example.com`, name, password },
      instanceAdmin,
    );
    expect(user.status).toBe(201);
    const id = (user.body as User).id;
    const joined = await request(
      stack,
      'PUT',
      `/api/v1/projects/default/members/${id}`,
      { role },
      instanceAdmin,
    );
    expect(joined.status).toBe(200);
    return { authorization: '', cookie: await signIn(stack, `${name}@example.com`, password) };
  }

  beforeAll(async () => {
    stack = await ServiceStack.create('profiles');
    await stack.start();
    instanceAdmin = {
      authorization: '',
      cookie: await signIn(stack, stack.admin.email, stack.admin.password),
    };
    projectAdmin = await member('pat', 'admin');
    viewer = await member('vera', 'viewer');
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

    const list = (await request(stack, 'GET', '/api/v1/profiles')).body as { items: AgentProfileView[] };
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

  it('should refuse tool names and models that the CLI would read as flags, naming the field', async () => {
    const response = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'flags',
      model: '--dangerously-skip-permissions',
      allowedTools: ['Read', '--dangerously-skip-permissions'],
      disallowedTools: ['-p'],
    });
    expect(response.status).toBe(400);
    expect((response.body as Problem).errors?.map((error) => error.field).sort()).toEqual([
      'allowedTools.1',
      'disallowedTools.0',
      'model',
    ]);
    expect((await request(stack, 'GET', '/api/v1/profiles/flags')).status).toBe(404);
  });

  it('should never show MCP secrets, to any role, and keep them until they are changed', async () => {
    const created = await request(stack, 'POST', '/api/v1/profiles', { ...reviewer, name: 'secretive' });
    expect(created.status).toBe(201);
    const shown = {
      notes: { command: 'node', args: reviewer.mcpServers.notes.args, env: { NOTES_KEY: { set: true } } },
      docs: { type: 'http', url: reviewer.mcpServers.docs.url, headers: { Authorization: { set: true } } },
    };
    expect((created.body as AgentProfileView).mcpServers).toEqual(shown);
    for (const caller of [viewer, projectAdmin, instanceAdmin, {}]) {
      const one = await request(stack, 'GET', '/api/v1/profiles/secretive', undefined, caller);
      const all = await request(stack, 'GET', '/api/v1/profiles', undefined, caller);
      expect(one.status).toBe(200);
      expect((one.body as AgentProfileView).mcpServers).toEqual(shown);
      expect(JSON.stringify([one.body, all.body])).not.toMatch(SECRETS);
    }

    // Sent back as shown with one header replaced: the kept one stays, the new one is set.
    const changed = await request(
      stack,
      'PATCH',
      '/api/v1/profiles/secretive',
      {
        maxTurns: 2,
        mcpServers: { ...shown, docs: { ...shown.docs, headers: { 'X-Api-Key': 'dk-secret-3' } } },
      },
      projectAdmin,
    );
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      maxTurns: 2,
      mcpServers: { ...shown, docs: { ...shown.docs, headers: { 'X-Api-Key': { set: true } } } },
    });
    expect(JSON.stringify(changed.body)).not.toMatch(SECRETS);

    const refused = await request(stack, 'PATCH', '/api/v1/profiles/secretive', {
      mcpServers: { notes: { command: 'sh', env: { NOTES_KEY: { set: true } } } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'mcpServers.notes.env.NOTES_KEY' }],
    });
    // Secrets never reach the audit log either.
    const audit = await request(stack, 'GET', '/api/v1/audit?project=default&limit=500');
    expect(JSON.stringify(audit.body)).not.toMatch(SECRETS);
  });

  it('should let only an instance administrator trust repository settings, and audit every switch', async () => {
    const created = await request(stack, 'POST', '/api/v1/profiles', { name: 'trusting' }, projectAdmin);
    expect(created.body).toMatchObject({
      trustRepositorySettings: false,
      internetAccess: false,
      telemetryContent: false,
    });

    const patch = (body: unknown, caller: Record<string, string>) =>
      request(stack, 'PATCH', '/api/v1/profiles/trusting', body, caller);
    // A project admin (even through the admin token) may not turn it on; nothing changes.
    for (const caller of [projectAdmin, {}]) {
      const refused = await patch({ trustRepositorySettings: true, maxTurns: 9 }, caller);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        code: 'FORBIDDEN',
        errors: [{ field: 'trustRepositorySettings' }],
      });
    }
    const denied = await request(
      stack,
      'POST',
      '/api/v1/profiles',
      { name: 'trusting-2', trustRepositorySettings: true },
      projectAdmin,
    );
    expect(denied.status).toBe(403);
    expect((await request(stack, 'GET', '/api/v1/profiles/trusting')).body).toMatchObject({ maxTurns: null });

    expect((await patch({ trustRepositorySettings: true }, instanceAdmin)).body).toMatchObject({
      trustRepositorySettings: true,
    });
    // A project admin's other changes, even one that sends the switch back as it is, keep it on.
    expect((await patch({ maxTurns: 4, internetAccess: true }, projectAdmin)).body).toMatchObject({
      trustRepositorySettings: true,
      internetAccess: true,
      maxTurns: 4,
    });
    expect((await patch({ trustRepositorySettings: true, maxTurns: 5 }, projectAdmin)).status).toBe(200);
    expect((await patch({ trustRepositorySettings: false }, projectAdmin)).body).toMatchObject({
      trustRepositorySettings: false,
    });

    const audit = await request(
      stack,
      'GET',
      '/api/v1/audit?project=default&action=profile.update&limit=500',
    );
    const switches = (audit.body as AuditPage).items
      .filter((entry) => entry.target?.id === 'trusting')
      .reverse()
      .map((entry) => [entry.actor.label, entry.details]);
    expect(switches).toEqual([
      [
        stack.admin.email,
        { changed: ['trustRepositorySettings'], trustRepositorySettings: { from: false, to: true } },
      ],
      [
        'pat@example.com',
        { changed: ['maxTurns', 'internetAccess'], internetAccess: { from: false, to: true } },
      ],
      ['pat@example.com', { changed: ['maxTurns', 'trustRepositorySettings'] }],
      [
        'pat@example.com',
        { changed: ['trustRepositorySettings'], trustRepositorySettings: { from: true, to: false } },
      ],
    ]);
  });

  it('should keep what a change does not name, the provider included', async () => {
    expect(
      (await request(stack, 'POST', '/api/v1/profiles', { name: 'codexy', provider: 'codex' })).status,
    ).toBe(201);
    const changed = await request(stack, 'PATCH', '/api/v1/profiles/codexy', { maxTurns: 3 });
    expect(changed.body).toMatchObject({ provider: 'codex', maxTurns: 3 });
  });

  it("should hand the profile's tools, permission mode, system prompt, MCP config and agent files to the CLI", async () => {
    expect((await request(stack, 'POST', '/api/v1/profiles', reviewer)).status).toBe(201);
    // Changed without its secrets: the CLI still gets them.
    expect((await request(stack, 'PATCH', '/api/v1/profiles/reviewer', { maxTurns: 7 })).status).toBe(200);
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
    // Read through the CLI's own root: a sandboxed CLI sees its home elsewhere than the runner.
    const mcpConfig = JSON.parse(
      readFileSync(`/proc/${cli}/root${after('--mcp-config')!}`, 'utf8'),
    ) as unknown;
    expect(mcpConfig).toEqual({ mcpServers: reviewer.mcpServers });
    // Subagents and skills are the user's of the run's home (its config dir), never files of the
    // workspace (its working directory) — sandboxed or not.
    const environ = readFileSync(`/proc/${cli}/environ`, 'utf8').split('\0');
    const configDir = environ.find((entry) => entry.startsWith('CLAUDE_CONFIG_DIR='))!.split('=')[1]!;
    const home = `/proc/${cli}/root${configDir}`;
    expect(readFileSync(path.join(home, 'agents/style-checker.md'), 'utf8')).toBe(
      reviewer.agents['style-checker'],
    );
    expect(readFileSync(path.join(home, 'skills/release-notes/SKILL.md'), 'utf8')).toBe(
      reviewer.skills['release-notes'],
    );
    expect(existsSync(path.join(`/proc/${cli}/cwd`, '.claude'))).toBe(false);

    // The allowed Bash tool ran under dontAsk: the agent is at work, not refused.
    const init = follower.events.find((event) => event.type === 'system.init');
    expect(init).toMatchObject({ data: { permissionMode: 'dontAsk' } });
    await request(stack, 'POST', `/api/v1/tasks/${task.id}/cancel`);
    await follower.finished;
    follower.close();
  });
});
