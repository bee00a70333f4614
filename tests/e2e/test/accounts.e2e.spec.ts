import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type {
  ApiToken,
  AuditEntry,
  AuditPage,
  CreatedApiToken,
  Me,
  Problem,
  Task,
  User,
} from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { countTasks, request, signIn, type ApiResponse } from './support';

const LOGIN_ATTEMPTS = 3;

// Projects, users, roles, tokens and the audit log, through the gateway (with the orchestrator,
// so a cancel really happens; no runner, so tasks stay queued).
describe('accounts, roles and project scoping', () => {
  let stack: ServiceStack;
  let db: Client;
  // Every change the test made that the API accepted, and as whom: the audit log must hold each.
  const changes: { action: string; actor: string }[] = [];

  const as = (credential: string): Record<string, string> =>
    credential.startsWith('hgr_')
      ? { authorization: `Bearer ${credential}` }
      : { authorization: '', cookie: credential };

  // A change through the API; accepted ones are remembered for the audit check.
  async function change(
    credential: string,
    actor: string,
    action: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiResponse> {
    const response = await request(stack, method, path, body, as(credential));
    if (response.status < 300) changes.push({ action, actor });
    return response;
  }

  let admin: string; // the first administrator's session
  let alice: { id: string; session: string }; // operator in default
  let victor: { id: string; session: string }; // viewer in default
  let bob: { id: string; session: string }; // admin of project beta only
  const passwords = { alice: 'alice-password-1', victor: 'victor-password-1', bob: 'bob-password-12' };

  async function createUser(name: keyof typeof passwords): Promise<string> {
    const created = await change(admin, stack.admin.email, 'user.create', 'POST', '/api/v1/users', {
      email: `${name}@example.com`,
      name,
      password: passwords[name],
    });
    expect(created.status).toBe(201);
    return (created.body as User).id;
  }

  beforeAll(async () => {
    stack = await ServiceStack.create('accounts', { LOGIN_ATTEMPTS_PER_15_MINUTES: String(LOGIN_ATTEMPTS) });
    await stack.start(['gateway', 'orchestrator']);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    admin = await signIn(stack, stack.admin.email, stack.admin.password);
    changes.push({ action: 'auth.login', actor: stack.admin.email });

    const project = await change(admin, stack.admin.email, 'project.create', 'POST', '/api/v1/projects', {
      slug: 'beta',
      name: 'Beta',
    });
    expect(project.status).toBe(201);

    const ids = {
      alice: await createUser('alice'),
      victor: await createUser('victor'),
      bob: await createUser('bob'),
    };
    for (const [name, slug, role] of [
      ['alice', 'default', 'operator'],
      ['victor', 'default', 'viewer'],
      ['bob', 'beta', 'admin'],
    ] as const) {
      const member = await change(
        admin,
        stack.admin.email,
        'member.set',
        'PUT',
        `/api/v1/projects/${slug}/members/${ids[name]}`,
        {
          role,
        },
      );
      expect(member.status).toBe(200);
    }
    const session = async (name: keyof typeof passwords) => {
      const cookie = await signIn(stack, `${name}@example.com`, passwords[name]);
      changes.push({ action: 'auth.login', actor: `${name}@example.com` });
      return { id: ids[name], session: cookie };
    };
    alice = await session('alice');
    victor = await session('victor');
    bob = await session('bob');
  });

  afterAll(async () => {
    await db?.end();
    await stack?.dispose();
  });

  describe('authentication', () => {
    it('should answer 401 with problem+json and WWW-Authenticate to a caller without credentials', async () => {
      const response = await request(stack, 'GET', '/api/v1/tasks', undefined, { authorization: '' });
      expect(response.status).toBe(401);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="hangar"');
      expect(response.body).toMatchObject({
        code: 'UNAUTHENTICATED',
        detail: expect.stringContaining('sign in'),
      });
      const garbage = await request(stack, 'GET', '/api/v1/tasks', undefined, {
        authorization: 'Bearer nope',
      });
      expect(garbage.status).toBe(401);
      expect((garbage.body as Problem).detail).toContain('hgr_');
    });

    it('should sign in with a password into an httpOnly SameSite cookie, and sign out', async () => {
      const wrong = await request(
        stack,
        'POST',
        '/api/v1/auth/login',
        {
          email: 'alice@example.com',
          password: 'not her password',
        },
        { authorization: '' },
      );
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
      expect(wrong.headers.get('set-cookie')).toBeNull();

      const response = await fetch(`${stack.gatewayUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ALICE@example.com', password: passwords.alice }),
      });
      expect(response.status).toBe(200);
      changes.push({ action: 'auth.login', actor: 'alice@example.com' });
      const cookie = response.headers.getSetCookie()[0]!;
      expect(cookie).toMatch(/^hangar_session=hgs_[A-Za-z0-9]{40};/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).toMatch(/Expires=/);
      const session = cookie.split(';')[0]!;
      // Only a hash of the session id is stored.
      const stored = await db.query('SELECT hash FROM sessions WHERE hash = $1', [
        createHash('sha256').update(session.split('=')[1]!).digest('hex'),
      ]);
      expect(stored.rowCount).toBe(1);

      const me = await request(stack, 'GET', '/api/v1/auth/me', undefined, as(session));
      expect(me.status).toBe(200);
      expect(me.body as Me).toMatchObject({
        kind: 'user',
        user: { email: 'alice@example.com', isAdmin: false },
        projects: [{ slug: 'default', role: 'operator' }],
      });

      const out = await change(session, 'alice@example.com', 'auth.logout', 'POST', '/api/v1/auth/logout');
      expect(out.status).toBe(204);
      expect((await request(stack, 'GET', '/api/v1/auth/me', undefined, as(session))).status).toBe(401);
    });

    it('should refuse a change made with the session cookie from another site', async () => {
      const before = await countTasks(stack);
      const response = await request(
        stack,
        'POST',
        '/api/v1/tasks',
        { prompt: 'csrf' },
        {
          ...as(alice.session),
          origin: 'https://evil.example.com',
        },
      );
      expect(response.status).toBe(403);
      expect(await countTasks(stack)).toBe(before);
    });

    it('should throttle repeated failed sign-ins with 429 and Retry-After', async () => {
      const attempt = () =>
        request(
          stack,
          'POST',
          '/api/v1/auth/login',
          { email: 'bob@example.com', password: 'guess-guess' },
          {
            authorization: '',
          },
        );
      for (let index = 0; index < LOGIN_ATTEMPTS; index++) expect((await attempt()).status).toBe(401);
      const throttled = await attempt();
      expect(throttled.status).toBe(429);
      expect(throttled.body).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      // Even the right password waits: the throttle is on the account, not the guess.
      const right = await request(
        stack,
        'POST',
        '/api/v1/auth/login',
        {
          email: 'bob@example.com',
          password: passwords.bob,
        },
        { authorization: '' },
      );
      expect(right.status).toBe(429);
    });
  });

  describe('API tokens', () => {
    let aliceToken: CreatedApiToken;

    it('should show a new token once, store only its hash, and record when it was used', async () => {
      const created = await change(
        alice.session,
        'alice@example.com',
        'token.create',
        'POST',
        '/api/v1/tokens',
        {
          name: 'ci',
        },
      );
      expect(created.status).toBe(201);
      aliceToken = created.body as CreatedApiToken;
      expect(aliceToken.token).toMatch(/^hgr_[A-Za-z0-9]{40}$/);
      expect(aliceToken).toMatchObject({
        name: 'ci',
        role: 'operator',
        project: 'default',
        createdBy: 'alice@example.com',
      });
      expect(aliceToken.prefix).toBe(aliceToken.token.slice(0, 12));
      // 90 days unless asked otherwise.
      const days = (Date.parse(aliceToken.expiresAt!) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(89.9);
      expect(days).toBeLessThanOrEqual(90);

      const rows = await db.query('SELECT * FROM api_tokens WHERE id = $1', [aliceToken.id]);
      expect(rows.rows[0].hash).toBe(createHash('sha256').update(aliceToken.token).digest('hex'));
      expect(JSON.stringify(rows.rows[0])).not.toContain(aliceToken.token);

      const listed = await request(stack, 'GET', '/api/v1/tokens', undefined, as(alice.session));
      const item = (listed.body as { items: ApiToken[] }).items.find((token) => token.id === aliceToken.id);
      expect(item).toBeDefined();
      expect(item).not.toHaveProperty('token');
      expect(item!.lastUsedAt).toBeNull();

      expect((await request(stack, 'GET', '/api/v1/tasks', undefined, as(aliceToken.token))).status).toBe(
        200,
      );
      const used = await db.query('SELECT last_used_at FROM api_tokens WHERE id = $1', [aliceToken.id]);
      expect(used.rows[0].last_used_at).not.toBeNull();
    });

    it('should never give a token more than its maker, nor let a viewer make one', async () => {
      const tooMuch = await change(
        alice.session,
        'alice@example.com',
        'token.create',
        'POST',
        '/api/v1/tokens',
        {
          name: 'root',
          role: 'admin',
        },
      );
      expect(tooMuch.status).toBe(403);
      expect(tooMuch.body).toMatchObject({ code: 'FORBIDDEN', errors: [{ field: 'role' }] });
      const viewer = await change(
        victor.session,
        'victor@example.com',
        'token.create',
        'POST',
        '/api/v1/tokens',
        {
          name: 'mine',
        },
      );
      expect(viewer.status).toBe(403);
    });

    it('should refuse a revoked token and an expired one with 401', async () => {
      const second = await change(
        alice.session,
        'alice@example.com',
        'token.create',
        'POST',
        '/api/v1/tokens',
        {
          name: 'short-lived',
          expiresInDays: 1,
        },
      );
      const expiring = second.body as CreatedApiToken;
      // A day is the shortest expiry the API takes; move it into the past instead of waiting.
      await db.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        expiring.id,
      ]);
      const expired = await request(stack, 'GET', '/api/v1/tasks', undefined, as(expiring.token));
      expect(expired.status).toBe(401);
      expect((expired.body as Problem).detail).toMatch(/expired/);

      const revoked = await change(
        alice.session,
        'alice@example.com',
        'token.revoke',
        'DELETE',
        `/api/v1/tokens/${aliceToken.id}`,
      );
      expect(revoked.status).toBe(200);
      expect((revoked.body as ApiToken).revokedAt).not.toBeNull();
      const refused = await request(stack, 'GET', '/api/v1/tasks', undefined, as(aliceToken.token));
      expect(refused.status).toBe(401);
      expect((refused.body as Problem).detail).toMatch(/revoked/);
    });

    it('should stop the tokens of a user who is disabled', async () => {
      const carol = await createUserWithToken('carol');
      expect((await request(stack, 'GET', '/api/v1/tasks', undefined, as(carol.token))).status).toBe(200);
      const disabled = await change(
        admin,
        stack.admin.email,
        'user.update',
        'PATCH',
        `/api/v1/users/${carol.id}`,
        {
          disabled: true,
        },
      );
      expect(disabled.status).toBe(200);
      const refused = await request(stack, 'GET', '/api/v1/tasks', undefined, as(carol.token));
      expect(refused.status).toBe(401);
      expect((refused.body as Problem).detail).toMatch(/disabled/);
      expect(
        (
          await request(
            stack,
            'POST',
            '/api/v1/auth/login',
            { email: 'carol@example.com', password: 'carol-password-1' },
            { authorization: '' },
          )
        ).status,
      ).toBe(401);
    });

    async function createUserWithToken(name: string): Promise<{ id: string; token: string }> {
      const created = await change(admin, stack.admin.email, 'user.create', 'POST', '/api/v1/users', {
        email: `${name}@example.com`,
        name,
        password: `${name}-password-1`,
      });
      const id = (created.body as User).id;
      await change(admin, stack.admin.email, 'member.set', 'PUT', `/api/v1/projects/default/members/${id}`, {
        role: 'operator',
      });
      const session = await signIn(stack, `${name}@example.com`, `${name}-password-1`);
      changes.push({ action: 'auth.login', actor: `${name}@example.com` });
      const token = await change(session, `${name}@example.com`, 'token.create', 'POST', '/api/v1/tokens', {
        name: 'own',
      });
      return { id, token: (token.body as CreatedApiToken).token };
    }
  });

  describe('project scoping', () => {
    let defaultTask: Task;
    let betaTask: Task;
    let bobToken: string;

    beforeAll(async () => {
      const made = await change(bob.session, 'bob@example.com', 'token.create', 'POST', '/api/v1/tokens', {
        name: 'beta-ci',
      });
      bobToken = (made.body as CreatedApiToken).token;
      const inDefault = await change(
        alice.session,
        'alice@example.com',
        'task.create',
        'POST',
        '/api/v1/tasks',
        {
          prompt: 'in default',
        },
      );
      defaultTask = inDefault.body as Task;
      const inBeta = await change(
        bobToken,
        `token "beta-ci" (${bobToken.slice(0, 12)}…)`,
        'task.create',
        'POST',
        '/api/v1/tasks',
        {
          prompt: 'in beta',
        },
      );
      betaTask = inBeta.body as Task;
      expect(defaultTask.project).toBe('default');
      expect(betaTask.project).toBe('beta');
    });

    it('should answer 404, not 403, for every object of a project the caller is not in', async () => {
      const before = await countTasks(stack);
      for (const [method, path] of [
        ['GET', `/api/v1/tasks/${defaultTask.id}`],
        ['GET', `/api/v1/tasks/${defaultTask.id}/events`],
        ['GET', `/api/v1/tasks/${defaultTask.id}/diff`],
        ['POST', `/api/v1/tasks/${defaultTask.id}/cancel`],
        ['POST', `/api/v1/tasks/${defaultTask.id}/retry`],
        ['GET', '/api/v1/profiles?project=default'],
        ['GET', '/api/v1/profiles/default?project=default'],
        ['GET', '/api/v1/projects/default'],
        ['GET', '/api/v1/projects/default/members'],
        ['GET', '/api/v1/tasks?project=default'],
      ] as const) {
        for (const credential of [bobToken, bob.session]) {
          const response = await request(stack, method, path, undefined, as(credential));
          expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
          expect(response.contentType).toMatch(/problem\+json/);
        }
      }
      expect(await countTasks(stack)).toBe(before);
      const task = await request(
        stack,
        'GET',
        `/api/v1/tasks/${defaultTask.id}`,
        undefined,
        as(alice.session),
      );
      expect((task.body as Task).status).toBe('QUEUED');
    });

    it('should list only the tasks of the caller’s projects', async () => {
      const beta = (await request(stack, 'GET', '/api/v1/tasks', undefined, as(bobToken))).body as {
        items: Task[];
      };
      expect(beta.items.map((task) => task.id)).toEqual([betaTask.id]);
      const mine = (await request(stack, 'GET', '/api/v1/tasks', undefined, as(alice.session))).body as {
        items: Task[];
      };
      expect(mine.items.map((task) => task.id)).toContain(defaultTask.id);
      expect(mine.items.map((task) => task.id)).not.toContain(betaTask.id);
      // The administrator sees both, and narrows with ?project=.
      const all = (await request(stack, 'GET', '/api/v1/tasks', undefined, as(admin))).body as {
        items: Task[];
      };
      expect(all.items.map((task) => task.id)).toEqual(expect.arrayContaining([defaultTask.id, betaTask.id]));
      const narrowed = (await request(stack, 'GET', '/api/v1/tasks?project=beta', undefined, as(admin)))
        .body as {
        items: Task[];
      };
      expect(narrowed.items.map((task) => task.id)).toEqual([betaTask.id]);
    });

    it('should ask a caller with several projects which one a new task is for', async () => {
      const response = await request(stack, 'POST', '/api/v1/tasks', { prompt: 'where?' }, as(admin));
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'PROJECT_REQUIRED', errors: [{ field: 'project' }] });
      const there = await change(
        admin,
        stack.admin.email,
        'task.create',
        'POST',
        '/api/v1/tasks?project=beta',
        {
          prompt: 'here',
        },
      );
      expect(there.status).toBe(201);
      expect((there.body as Task).project).toBe('beta');
    });

    it('should refuse every change by a viewer with 403 and change nothing', async () => {
      const before = await countTasks(stack);
      for (const [action, method, path, body] of [
        ['task.create', 'POST', '/api/v1/tasks', { prompt: 'viewer' }],
        ['task.cancel', 'POST', `/api/v1/tasks/${defaultTask.id}/cancel`, undefined],
        ['task.retry', 'POST', `/api/v1/tasks/${defaultTask.id}/retry`, undefined],
        ['profile.create', 'POST', '/api/v1/profiles', { name: 'mine' }],
        ['profile.update', 'PATCH', '/api/v1/profiles/default', { maxTurns: 1 }],
        ['profile.delete', 'DELETE', '/api/v1/profiles/default', undefined],
        ['conversation.create', 'POST', '/api/v1/conversations', { message: 'hi' }],
        ['token.create', 'POST', '/api/v1/tokens', { name: 'x' }],
        ['member.set', 'PUT', `/api/v1/projects/default/members/${victor.id}`, { role: 'admin' }],
        ['project.update', 'PATCH', '/api/v1/projects/default', { name: 'Mine' }],
        ['project.create', 'POST', '/api/v1/projects', { slug: 'gamma', name: 'Gamma' }],
        [
          'webhook.create',
          'POST',
          '/api/v1/webhooks',
          {
            provider: 'github',
            name: 'mine',
            commands: [
              { name: 'x', trigger: { type: 'mention' }, action: { type: 'react', reaction: 'eyes' } },
            ],
          },
        ],
        [
          'user.create',
          'POST',
          '/api/v1/users',
          { email: 'x@example.com', name: 'x', password: 'long-enough-pw' },
        ],
      ] as const) {
        const response = await change(victor.session, 'victor@example.com', action, method, path, body);
        expect({ path, method, status: response.status }).toEqual({ path, method, status: 403 });
        expect(response.body).toMatchObject({ code: 'FORBIDDEN' });
      }
      expect(await countTasks(stack)).toBe(before);
      // Reading is what a viewer may do.
      expect(
        (await request(stack, 'GET', `/api/v1/tasks/${defaultTask.id}`, undefined, as(victor.session)))
          .status,
      ).toBe(200);
      expect((await request(stack, 'GET', '/api/v1/profiles', undefined, as(victor.session))).status).toBe(
        200,
      );
      const role = await db.query('SELECT role FROM project_members WHERE user_id = $1', [victor.id]);
      expect(role.rows[0].role).toBe('viewer');
    });

    it('should let an operator cancel and retry tasks of the project', async () => {
      const cancelled = await change(
        alice.session,
        'alice@example.com',
        'task.cancel',
        'POST',
        `/api/v1/tasks/${defaultTask.id}/cancel`,
      );
      expect(cancelled.status).toBe(202);
      expect((cancelled.body as Task).status).toBe('CANCELLED');
      const retried = await change(
        alice.session,
        'alice@example.com',
        'task.retry',
        'POST',
        `/api/v1/tasks/${defaultTask.id}/retry`,
      );
      expect(retried.status).toBe(201);
      expect(retried.body).toMatchObject({ status: 'QUEUED', prompt: 'in default', retryOf: defaultTask.id });
    });
  });

  describe('the audit log', () => {
    it('should hold an entry for every change the API accepted, with who and from where', async () => {
      const entries: AuditEntry[] = [];
      let cursor: string | null = null;
      do {
        const page: AuditPage = (
          await request(
            stack,
            'GET',
            `/api/v1/audit?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
            undefined,
            as(admin),
          )
        ).body as AuditPage;
        entries.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);

      const unmatched = [...entries];
      for (const expected of changes) {
        const index = unmatched.findIndex(
          (entry) => entry.action === expected.action && entry.actor.label === expected.actor,
        );
        expect({ ...expected, found: index >= 0 }).toEqual({ ...expected, found: true });
        unmatched.splice(index, 1);
      }
      // What is left: the bootstrap's own entries and refused sign-ins, never a refused change.
      expect(unmatched.map((entry) => entry.action).sort()).toEqual(
        expect.arrayContaining(['auth.login_failed', 'token.create', 'user.create']),
      );
      for (const entry of unmatched) {
        expect(['auth.login_failed', 'token.create', 'user.create']).toContain(entry.action);
        if (entry.action !== 'auth.login_failed') expect(entry.actor.type).toBe('system');
      }
      const create = entries.find(
        (entry) => entry.action === 'task.create' && entry.actor.label === 'alice@example.com',
      );
      expect(create).toMatchObject({ project: 'default', target: { type: 'task' }, ip: '127.0.0.1' });
      expect(create!.userAgent).toBeTruthy();
    });

    it('should be readable by project admins for their project only, and not by others', async () => {
      const beta = (await request(stack, 'GET', '/api/v1/audit', undefined, as(bob.session)))
        .body as AuditPage;
      expect(beta.items.length).toBeGreaterThan(0);
      expect(new Set(beta.items.map((entry) => entry.project))).toEqual(new Set(['beta']));
      expect((await request(stack, 'GET', '/api/v1/audit', undefined, as(alice.session))).status).toBe(403);
      expect(
        (await request(stack, 'GET', '/api/v1/audit?project=default', undefined, as(bob.session))).status,
      ).toBe(404);
    });
  });
});
