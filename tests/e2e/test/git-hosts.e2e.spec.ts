import path from 'node:path';
import { Client } from 'pg';
import type {
  AuditPage,
  CreatedApiToken,
  CreatedWebhook,
  GitHostList,
  Problem,
  Task,
  WebhookDelivery,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { bareRepository, git, startFakeGitHost, testCertificate, type FakeGitHost } from './git';
import { countTasks, createTask, follow, getTask, request, signIn } from './support';
import { githubExample, sendGitHub } from './webhook-senders';

const A_TOKEN = 'a-project-token-0123456789';
const INSTALLATION_TOKEN = 'installation-token-0123456789';
const basic = (username: string, token: string) =>
  `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`;

// Per-project git hosts end to end: the gateway refuses repositories on hosts the project does
// not allow, and the runner offers each HTTPS credential to its own host only. Three fake git
// hosts speak git's smart HTTP over TLS: a (wants the project's token), b (wants nothing) and i
// (the installation's host, wants GIT_CREDENTIALS' token).
describe('git hosts', () => {
  let stack: ServiceStack;
  let db: Client;
  let a: FakeGitHost;
  let b: FakeGitHost;
  let i: FakeGitHost;
  let admin: string;

  beforeAll(async () => {
    stack = await ServiceStack.create('git-hosts');
    const tls = testCertificate(path.join(stack.dataDir, 'tls'));
    a = await startFakeGitHost(path.join(stack.dataDir, 'host-a'), tls, {
      username: 'x-access-token',
      token: A_TOKEN,
    });
    b = await startFakeGitHost(path.join(stack.dataDir, 'host-b'), tls);
    i = await startFakeGitHost(path.join(stack.dataDir, 'host-i'), tls, {
      username: 'oauth2',
      token: INSTALLATION_TOKEN,
    });
    for (const host of [a, b, i]) bareRepository(host.root);
    const settings = { GIT_ALLOWED_HOSTS: `github.com,${i.host}`, GIT_SSL_CAINFO: tls.certFile };
    await stack.start(['scripted-model', 'gateway', 'websocket-pool', 'orchestrator', 'metrics'], settings);
    await stack.start(['agent-runner'], {
      ...settings,
      GIT_CREDENTIALS: JSON.stringify([{ host: i.host, username: 'oauth2', token: INSTALLATION_TOKEN }]),
    });
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    admin = await signIn(stack, stack.admin.email, stack.admin.password);
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
    await Promise.all([a, b, i].map((host) => host?.close()));
  });

  const as = (credential: string): Record<string, string> =>
    credential.startsWith('hgr_')
      ? { authorization: `Bearer ${credential}` }
      : { authorization: '', cookie: credential };

  async function setHosts(items: unknown[], project = 'default'): Promise<GitHostList> {
    const response = await request(stack, 'PUT', `/api/v1/projects/${project}/git-hosts`, { items });
    if (response.status !== 200)
      throw new Error(`PUT git-hosts answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body as GitHostList;
  }

  async function tokenOf(role: 'viewer' | 'operator'): Promise<string> {
    const made = await request(
      stack,
      'POST',
      '/api/v1/tokens?project=default',
      { name: role, role },
      as(admin),
    );
    expect(made.status).toBe(201);
    return (made.body as CreatedApiToken).token;
  }

  async function finished(task: Task): Promise<Task> {
    const follower = follow(stack, task.id);
    await follower.finished;
    follower.close();
    return getTask(stack, task.id);
  }

  async function auditEntries(action: string): Promise<AuditPage['items']> {
    const response = await request(stack, 'GET', `/api/v1/audit?project=default&action=${action}`);
    return (response.body as AuditPage).items;
  }

  const count = async (table: string) =>
    Number((await db.query<{ count: string }>(`SELECT count(*) FROM ${table}`)).rows[0]?.count);

  describe('the git hosts API', () => {
    it('should show the installation hosts until the project has a list, and credentials only as set', async () => {
      const before = await request(stack, 'GET', '/api/v1/projects/default/git-hosts');
      expect(before.body).toEqual({ items: [], installationHosts: ['github.com', i.host] });

      const saved = await setHosts([
        { host: a.host, credential: { token: A_TOKEN } },
        { host: b.host.toUpperCase() },
      ]);

      // Listed by host: the fakes' ports decide which of the two comes first.
      const expected = {
        items: [
          { host: a.host, hasCredential: true },
          { host: b.host, hasCredential: false },
        ].sort((left, right) => left.host.localeCompare(right.host)),
        installationHosts: ['github.com', i.host],
      };
      expect(saved).toEqual(expected);
      expect((await request(stack, 'GET', '/api/v1/projects/default/git-hosts')).body).toEqual(expected);
      const [entry] = await auditEntries('project.set_git_hosts');
      expect(entry?.details).toEqual({
        gitHosts: expected.items.map((item) => item.host),
        credentialsSet: [a.host],
        credentialsRemoved: [],
      });
      expect(JSON.stringify(await auditEntries('project.set_git_hosts'))).not.toContain(A_TOKEN);
    });

    it('should keep a stored credential when its host comes again without one, and drop it when told', async () => {
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }]);

      expect((await setHosts([{ host: a.host }])).items).toEqual([{ host: a.host, hasCredential: true }]);
      expect((await setHosts([{ host: a.host, credential: null }])).items).toEqual([
        { host: a.host, hasCredential: false },
      ]);
      expect((await setHosts([{ host: a.host }])).items).toEqual([{ host: a.host, hasCredential: false }]);
    });

    it('should let any member read the list and only project admins change it', async () => {
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }]);
      for (const role of ['viewer', 'operator'] as const) {
        const token = await tokenOf(role);
        const read = await request(stack, 'GET', '/api/v1/projects/default/git-hosts', undefined, as(token));
        expect(read.body).toMatchObject({ items: [{ host: a.host, hasCredential: true }] });
        const change = await request(
          stack,
          'PUT',
          '/api/v1/projects/default/git-hosts',
          { items: [{ host: 'evil.example.com' }] },
          as(token),
        );
        expect(change.status).toBe(403);
      }
      expect((await request(stack, 'GET', '/api/v1/projects/default/git-hosts')).body).toMatchObject({
        items: [{ host: a.host, hasCredential: true }],
      });
    });

    it.each([
      ['a URL instead of a host', [{ host: 'https://github.com' }], 'items.0.host'],
      ['a port out of range', [{ host: 'github.com:70000' }], 'items.0.host'],
      ['a host twice', [{ host: 'github.com' }, { host: 'GitHub.com' }], 'items.1.host'],
      ['an empty token', [{ host: 'github.com', credential: { token: '' } }], 'items.0.credential.token'],
      [
        'a token with a line break',
        [{ host: 'github.com', credential: { token: 'a\nb' } }],
        'items.0.credential.token',
      ],
      [
        'a user name with a colon',
        [{ host: 'github.com', credential: { token: 't', username: 'a:b' } }],
        'items.0.credential.username',
      ],
    ])('should refuse %s with 400 naming the field, changing nothing', async (_what, items, field) => {
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }]);

      const response = await request(stack, 'PUT', '/api/v1/projects/default/git-hosts', { items });

      expect(response.status).toBe(400);
      expect(response.contentType).toContain('application/problem+json');
      expect((response.body as Problem).errors?.map((error) => error.field)).toEqual([field]);
      expect(
        ((await request(stack, 'GET', '/api/v1/projects/default/git-hosts')).body as GitHostList).items,
      ).toEqual([{ host: a.host, hasCredential: true }]);
    });
  });

  describe('repositories on hosts the project does not allow', () => {
    beforeEach(async () => {
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }, { host: b.host }]);
    });

    it.each([
      [
        'an installation host, when the project has its own list',
        'https://github.com/owner/repo.git',
        'github.com',
      ],
      ['an allowed host on another port', `https://127.0.0.1:1/owner/repo.git`, '127.0.0.1:1'],
      ['an scp-like SSH URL', 'git@evil.example.com:owner/repo.git', 'evil.example.com'],
      ['an ssh:// URL', 'ssh://git@evil.example.com:2222/owner/repo.git', 'evil.example.com:2222'],
    ])('should refuse %s with 400 naming repository, recording nothing', async (_what, repository, host) => {
      const tasks = await countTasks(stack);
      const audited = (await auditEntries('task.create')).length;

      const response = await request(stack, 'POST', '/api/v1/tasks', {
        prompt: 'x',
        scenario: 'reply',
        repository,
      });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        code: 'INVALID_REPOSITORY',
        errors: [
          {
            field: 'repository',
            message: expect.stringContaining(`git host ${host} is not allowed for this project`),
          },
        ],
      });
      expect(await countTasks(stack)).toBe(tasks);
      expect((await auditEntries('task.create')).length).toBe(audited);
    });

    it('should refuse a conversation on such a host, and a message once its host is no longer allowed', async () => {
      const conversations = await count('conversations');
      const refused = await request(stack, 'POST', '/api/v1/conversations', {
        repository: 'https://evil.example.com/owner/repo.git',
        message: 'hello',
        scenario: 'reply',
      });
      expect(refused.status).toBe(400);
      expect((refused.body as Problem).errors?.[0]?.field).toBe('repository');
      expect(await count('conversations')).toBe(conversations);

      const created = await request(stack, 'POST', '/api/v1/conversations', { repository: b.url() });
      expect(created.status).toBe(201);
      const id = (created.body as { conversation: { id: string } }).conversation.id;
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }]);
      const tasks = await countTasks(stack);
      const messages = await count('messages');

      const message = await request(stack, 'POST', `/api/v1/conversations/${id}/messages`, {
        content: 'hello',
        scenario: 'reply',
      });

      expect(message.status).toBe(400);
      expect(message.body).toMatchObject({ code: 'INVALID_REPOSITORY', errors: [{ field: 'repository' }] });
      expect(await countTasks(stack)).toBe(tasks);
      expect(await count('messages')).toBe(messages);
    });

    it("should fail a webhook's delivery that names such a host, saying why, and start nothing", async () => {
      const made = await request(stack, 'POST', '/api/v1/webhooks', {
        provider: 'github',
        name: 'evil repository',
        commands: [
          {
            name: '*',
            events: ['issue_comment.created'],
            trigger: { type: 'mention' },
            action: {
              type: 'create_task',
              template: '{{hangar.args}}',
              repository: 'https://evil.example.com/owner/repo.git',
              scenario: 'reply',
            },
          },
        ],
      });
      expect(made.status).toBe(201);
      const webhook = made.body as CreatedWebhook;
      const payload = githubExample('issue_comment', 'created') as { comment: { body: string } };
      payload.comment.body = '@hangar do something';
      const tasks = await countTasks(stack);

      const sent = await sendGitHub(stack, webhook.path, {
        event: 'issue_comment',
        payload,
        secret: webhook.secret,
      });

      expect(sent.status).toBe(202);
      const id = (sent.body as { delivery: string }).delivery;
      const deadline = Date.now() + 30_000;
      let delivery: WebhookDelivery;
      // Deliveries are settled by a queue worker with no event to subscribe to: ask until it is done.
      for (;;) {
        delivery = (await request(stack, 'GET', `/api/v1/webhook-deliveries/${id}`)).body as WebhookDelivery;
        if (!['queued', 'waiting'].includes(delivery.status) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(delivery).toMatchObject({
        status: 'failed',
        taskId: null,
        reason: expect.stringContaining('git host evil.example.com is not allowed for this project'),
      });
      expect(await countTasks(stack)).toBe(tasks);
    });
  });

  describe('clones and pushes through the runner', () => {
    // A task that edits README.md in the repository of `host` and pushes its branch there.
    async function editAndPush(host: FakeGitHost): Promise<void> {
      const task = await finished(
        await createTask(stack, {
          prompt: 'edit',
          scenario: 'edit-file',
          repository: host.url(),
          ref: 'main',
          push: true,
        }),
      );
      expect(task.status).toBe('COMPLETED');
      expect(task.pushedAt).not.toBeNull();
      const bare = path.join(host.root, 'project.git');
      expect(git(host.root, '--git-dir', bare, 'show', `hangar/${task.id}:README.md`)).toBe(
        'Hello from Hangar',
      );
    }

    it("should clone and push with the token of the repository's own host, and offer nothing to a host without one", async () => {
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }, { host: b.host }]);
      const fromA = a.authorizations.length;
      const fromB = b.authorizations.length;

      await editAndPush(a);

      const sentToA = a.authorizations.slice(fromA);
      expect(new Set(sentToA.filter((header) => header !== undefined))).toEqual(
        new Set([basic('x-access-token', A_TOKEN)]),
      );
      expect(b.authorizations.length).toBe(fromB);

      await editAndPush(b);

      const sentToB = b.authorizations.slice(fromB);
      expect(sentToB.length).toBeGreaterThanOrEqual(4);
      expect(sentToB.filter((header) => header !== undefined)).toEqual([]);
      expect(a.authorizations.length).toBe(fromA + sentToA.length);
    });

    it("should give GIT_CREDENTIALS' token to projects without their own list only", async () => {
      // No list of its own: the installation's hosts and credentials apply.
      await setHosts([]);
      const fromI = i.authorizations.length;

      const done = await finished(
        await createTask(stack, { prompt: 'edit', scenario: 'edit-file', repository: i.url() }),
      );

      expect(done.status).toBe('COMPLETED');
      expect(new Set(i.authorizations.slice(fromI).filter((header) => header !== undefined))).toEqual(
        new Set([basic('oauth2', INSTALLATION_TOKEN)]),
      );

      // With a list of its own, the installation's host must be on it, and even then its
      // credential stays the installation's, for the other projects.
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }]);
      const refused = await request(stack, 'POST', '/api/v1/tasks', {
        prompt: 'x',
        scenario: 'reply',
        repository: i.url(),
      });
      expect(refused.status).toBe(400);
      await setHosts([{ host: a.host, credential: { token: A_TOKEN } }, { host: i.host }]);
      const fromOwnList = i.authorizations.length;

      const failed = await finished(
        await createTask(stack, { prompt: 'x', scenario: 'reply', repository: i.url() }),
      );

      expect(failed.status).toBe('FAILED');
      expect(failed.error).toMatch(/^workspace: could not clone the repository/);
      expect(i.authorizations.length).toBeGreaterThan(fromOwnList);
      expect(i.authorizations.slice(fromOwnList).filter((header) => header !== undefined)).toEqual([]);
    });
  });
});
