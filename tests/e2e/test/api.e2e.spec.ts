import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { ApiToken, CreatedApiToken, CreatedWebhook, Problem, Task, TaskPage } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { countTasks, createTask, request, signIn } from './support';

// The gateway alone: tasks are recorded and stay QUEUED (nothing runs them here).
describe('REST API conventions', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('api', { GATEWAY_CORS_ORIGINS: 'https://dash.example.com' });
    await stack.start(['gateway']);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  describe('HTTP hygiene', () => {
    it('should send security headers and allow only the configured browser origins', async () => {
      const response = await fetch(`${stack.gatewayUrl}/api/v1/tasks?limit=1`);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/);
      expect(response.headers.get('x-powered-by')).toBeNull();

      const preflight = (origin: string) =>
        fetch(`${stack.gatewayUrl}/api/v1/tasks`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      expect((await preflight('https://dash.example.com')).headers.get('access-control-allow-origin')).toBe(
        'https://dash.example.com',
      );
      expect(
        (await preflight('https://evil.example.com')).headers.get('access-control-allow-origin'),
      ).toBeNull();
    });
  });

  describe('OpenAPI', () => {
    interface OpenApi {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    }

    it('should serve an OpenAPI 3.1 document built from the shared schemas, and its UI', async () => {
      const response = await request(stack, 'GET', '/api/openapi.json');
      expect(response.status).toBe(200);
      const document = response.body as OpenApi;
      expect(document.openapi).toBe('3.1.0');
      for (const path of [
        '/api/v1/tasks',
        '/api/v1/tasks/{id}',
        '/api/v1/tasks/{id}/events',
        '/api/v1/tasks/{id}/cancel',
        '/api/v1/profiles',
        '/api/v1/conversations/{id}/messages',
        '/api/v1/tasks/{id}/retry',
        '/api/v1/auth/login',
        '/api/v1/projects/{slug}/members/{userId}',
        '/api/v1/tokens',
        '/api/v1/users/{id}',
        '/api/v1/audit',
        '/api/v1/webhooks/{id}',
        '/api/v1/webhook-deliveries/{id}/redeliver',
      ]) {
        expect(Object.keys(document.paths)).toContain(path);
      }
      const createTask = document.components.schemas.CreateTaskDto!;
      expect(Object.keys(createTask.properties ?? {})).toEqual(
        expect.arrayContaining([
          'prompt',
          'profile',
          'scenario',
          'timeoutSeconds',
          'repository',
          'ref',
          'push',
        ]),
      );
      expect(createTask.required).toEqual(['prompt']);
      expect(Object.keys(document.components.schemas.TaskDto?.properties ?? {})).toEqual(
        expect.arrayContaining(['id', 'status', 'costUsd', 'usage', 'agentSessionId']),
      );
      expect(document.paths['/api/v1/tasks']?.post?.responses).toHaveProperty('201');

      const ui = await fetch(`${stack.gatewayUrl}/api/docs`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toContain('swagger-ui');
    });
  });

  describe('Idempotency-Key', () => {
    it('should answer a repeated POST with the first response and record one task', async () => {
      const before = await countTasks(stack);
      const body = { prompt: 'once only', scenario: 'reply' };
      const first = await request(stack, 'POST', '/api/v1/tasks', body, { 'idempotency-key': 'key-1' });
      // The same body with its keys in another order is the same request.
      const again = await request(
        stack,
        'POST',
        '/api/v1/tasks',
        { scenario: 'reply', prompt: 'once only' },
        { 'idempotency-key': 'key-1' },
      );
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect((again.body as Task).id).toBe((first.body as Task).id);
      expect(again.body).toEqual(first.body);
      expect(await countTasks(stack)).toBe(before + 1);
    });

    it('should refuse the same key with another body, and a malformed key, changing nothing', async () => {
      await request(stack, 'POST', '/api/v1/tasks', { prompt: 'first body' }, { 'idempotency-key': 'key-2' });
      const before = await countTasks(stack);
      const reused = await request(
        stack,
        'POST',
        '/api/v1/tasks',
        { prompt: 'second body' },
        { 'idempotency-key': 'key-2' },
      );
      expect(reused.status).toBe(409);
      expect((reused.body as Problem).code).toBe('IDEMPOTENCY_KEY_REUSED');
      const malformed = await request(
        stack,
        'POST',
        '/api/v1/tasks',
        { prompt: 'x' },
        { 'idempotency-key': 'has spaces in it' },
      );
      expect(malformed.status).toBe(400);
      expect(await countTasks(stack)).toBe(before);
    });

    it('should create one task when the same key arrives many times at once', async () => {
      const before = await countTasks(stack);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          request(stack, 'POST', '/api/v1/tasks', { prompt: 'racing' }, { 'idempotency-key': 'key-race' }),
        ),
      );
      const created = answers.filter((answer) => answer.status === 201);
      // The rest were told the first is still being handled, or got its answer again.
      for (const answer of answers) expect([201, 409]).toContain(answer.status);
      expect(new Set(created.map((answer) => (answer.body as Task).id)).size).toBe(1);
      expect(await countTasks(stack)).toBe(before + 1);
    });

    it('should let a request that failed be retried with the same key', async () => {
      const bad = await request(
        stack,
        'POST',
        '/api/v1/tasks',
        { prompt: '' },
        { 'idempotency-key': 'key-3' },
      );
      expect(bad.status).toBe(400);
      const good = await request(
        stack,
        'POST',
        '/api/v1/tasks',
        { prompt: '' },
        { 'idempotency-key': 'key-3' },
      );
      expect(good.status).toBe(400);
      const fixed = await request(
        stack,
        'POST',
        '/api/v1/tasks',
        { prompt: 'now valid' },
        { 'idempotency-key': 'key-4' },
      );
      expect(fixed.status).toBe(201);
    });
  });

  describe('Idempotency-Key and secrets shown once', () => {
    async function storedAnswers(): Promise<string> {
      const client = new Client({ connectionString: stack.database.url });
      await client.connect();
      try {
        return JSON.stringify((await client.query('SELECT * FROM idempotency_keys')).rows);
      } finally {
        await client.end();
      }
    }

    it('should never keep a new token, and replay its answer without it, saying so', async () => {
      const session = {
        authorization: '',
        cookie: await signIn(stack, stack.admin.email, stack.admin.password),
      };
      const send = () =>
        request(
          stack,
          'POST',
          '/api/v1/tokens?project=default',
          { name: 'ci' },
          {
            ...session,
            'idempotency-key': 'token-once',
          },
        );
      const first = await send();
      expect(first.status).toBe(201);
      const created = first.body as CreatedApiToken;
      expect(created.token).toMatch(/^hgr_/);
      expect(first.headers.get('idempotent-withheld')).toBeNull();

      const replay = await send();
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('idempotent-withheld')).toBe('token');
      const { token: _shownOnce, ...withoutToken } = created;
      expect(replay.body as ApiToken).toEqual(withoutToken);
      expect(await storedAnswers()).not.toContain(created.token);
    });

    it("should keep nothing a new user's password could be guessed from", async () => {
      const body = { email: 'guessable@example.com', name: 'Guess', password: 'summer-2026-guessable' };
      const session = {
        authorization: '',
        cookie: await signIn(stack, stack.admin.email, stack.admin.password),
      };
      const created = await request(stack, 'POST', '/api/v1/users', body, {
        ...session,
        'idempotency-key': 'user-once',
      });
      expect(created.status).toBe(201);
      // What someone holding the table would try: the body as sent, keys in order, hashed.
      const guess = createHash('sha256')
        .update(JSON.stringify({ email: body.email, name: body.name, password: body.password }))
        .digest('hex');
      expect(await storedAnswers()).not.toContain(guess);
      expect(await storedAnswers()).not.toContain(body.password);
    });

    it("should never keep a new webhook's signing secret, nor replay it", async () => {
      const send = () =>
        request(
          stack,
          'POST',
          '/api/v1/webhooks',
          {
            provider: 'github',
            name: 'once',
            commands: [
              { name: 'go', trigger: { type: 'mention' }, action: { type: 'create_task', template: 'x' } },
            ],
          },
          { 'idempotency-key': 'webhook-once' },
        );
      const first = await send();
      expect(first.status).toBe(201);
      const { secret, ...webhook } = first.body as CreatedWebhook;
      expect(secret.length).toBeGreaterThanOrEqual(16);
      const replay = await send();
      expect(replay.headers.get('idempotent-withheld')).toBe('secret');
      expect(replay.body).toEqual(webhook);
      expect(await storedAnswers()).not.toContain(secret);
    });
  });

  describe('GET /api/v1/tasks', () => {
    it('should page newest first with a cursor that stays stable while tasks are added', async () => {
      const created: Task[] = [];
      for (let index = 0; index < 23; index++)
        created.push(await createTask(stack, { prompt: `page ${index}`, profile: 'default' }));
      const expected = (await request(stack, 'GET', '/api/v1/tasks?limit=200')).body as TaskPage;

      const seen: string[] = [];
      const pageAt = async (cursor: string | null) => {
        const query: string = cursor ? `?limit=7&cursor=${cursor}` : '?limit=7';
        const page = (await request(stack, 'GET', `/api/v1/tasks${query}`)).body as TaskPage;
        seen.push(...page.items.map((task) => task.id));
        return page.nextCursor;
      };
      // Paging begins with its first page; from then on other clients keep creating tasks,
      // concurrently (started before it, one could land ahead of that first page).
      let cursor = await pageAt(null);
      let paging = true;
      const writers = Array.from({ length: 3 }, async () => {
        while (paging) await createTask(stack, { prompt: 'arrived meanwhile' });
      });
      try {
        while (cursor) {
          // New tasks only ever land on page one.
          await createTask(stack, { prompt: 'arrived between pages' });
          cursor = await pageAt(cursor);
        }
      } finally {
        paging = false;
        await Promise.all(writers);
      }

      // Exactly the tasks there were when paging began, in order: none twice, none skipped.
      expect(seen).toEqual(expected.items.map((task) => task.id));
      expect(seen).toEqual(expect.arrayContaining(created.map((task) => task.id)));
    });

    it('should filter by status and time, and refuse a bad filter or cursor naming it', async () => {
      const since = new Date().toISOString();
      const task = await createTask(stack, { prompt: 'filtered' });
      const page = (
        await request(
          stack,
          'GET',
          `/api/v1/tasks?status=QUEUED,RUNNING&createdAfter=${encodeURIComponent(since)}`,
        )
      ).body as TaskPage;
      expect(page.items.map((item) => item.id)).toEqual([task.id]);
      expect(
        ((await request(stack, 'GET', '/api/v1/tasks?status=COMPLETED&limit=200')).body as TaskPage).items,
      ).toEqual([]);

      const badStatus = await request(stack, 'GET', '/api/v1/tasks?status=DONE');
      expect(badStatus.status).toBe(400);
      expect((badStatus.body as Problem).errors?.[0]?.field).toBe('status');
      const badCursor = await request(stack, 'GET', '/api/v1/tasks?cursor=not-ours');
      expect(badCursor.status).toBe(400);
      expect((badCursor.body as Problem).code).toBe('INVALID_CURSOR');
    });
  });
});
