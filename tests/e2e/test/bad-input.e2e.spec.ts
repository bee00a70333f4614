import type { Problem } from '@hangar/contracts';
import { SERVICES, ServiceStack } from '@hangar/testing';
import { countTasks, request } from './support';

describe('bad input gets a clear answer and changes nothing', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('bad_input', { GATEWAY_BODY_LIMIT: '64kb' });
    await stack.start(['gateway']);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  const taskCount = () => countTasks(stack);

  it('should answer 400 problem+json naming each bad field', async () => {
    const response = await request(stack, 'POST', '/api/v1/tasks', {
      prompt: '',
      timeoutSeconds: -5,
      colour: 'blue',
    });
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    const problem = response.body as Problem;
    expect(problem).toMatchObject({
      status: 400,
      title: 'Bad Request',
      code: 'VALIDATION_FAILED',
      instance: '/api/v1/tasks',
    });
    const fields = problem.errors?.map((error) => error.field).sort();
    expect(fields).toEqual(['(body)', 'prompt', 'timeoutSeconds']);
    expect(problem.errors?.find((error) => error.field === '(body)')?.message).toContain('colour');
    expect(await taskCount()).toBe(0);
  });

  it("should refuse a task's check without a command or with a time limit out of range, naming the field", async () => {
    const response = await request(stack, 'POST', '/api/v1/tasks', {
      prompt: 'Say hello',
      check: { command: '  ', timeoutSeconds: 0 },
    });
    expect(response.status).toBe(400);
    const problem = response.body as Problem;
    expect(problem.errors?.map((error) => error.field).sort()).toEqual([
      'check.command',
      'check.timeoutSeconds',
    ]);
    expect(await taskCount()).toBe(0);
  });

  it('should refuse a NUL character anywhere in a request with 400 naming where it was', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/tasks', { prompt: 'before\u0000after' }, 'prompt'],
      [
        'POST',
        '/api/v1/profiles',
        { name: 'nul', mcpServers: { a: { command: 'x', env: { 'K\u0000': 'v' } } } },
        'mcpServers.a.env.K\u0000',
      ],
      [
        'POST',
        '/api/v1/workflows',
        { name: 'nul', steps: [{ id: 'a', prompt: 'before\u0000after' }] },
        'steps.0.prompt',
      ],
      ['GET', '/api/v1/tasks/x%00', undefined, 'id'],
      ['GET', '/api/v1/profiles?project=default%00', undefined, 'project'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await request(stack, method, path, body);
      expect(response.status).toBe(400);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ field, message: 'must not contain NUL (\\u0000) characters' }],
      });
    }
    expect(await taskCount()).toBe(0);
  });

  it('should answer 400 for a body that is not JSON', async () => {
    const response = await request(stack, 'POST', '/api/v1/tasks', '{"prompt": ', {
      'content-type': 'application/json',
    });
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect((response.body as Problem).detail).toMatch(/JSON/);
  });

  it('should refuse an unknown scenario and name the known ones', async () => {
    const response = await request(stack, 'POST', '/api/v1/tasks', {
      prompt: 'hi',
      scenario: 'no-such-thing',
    });
    expect(response.status).toBe(400);
    const problem = response.body as Problem;
    expect(problem.code).toBe('UNKNOWN_SCENARIO');
    expect(problem.errors).toEqual([{ field: 'scenario', message: expect.stringContaining('write-file') }]);
    expect(await taskCount()).toBe(0);
  });

  it('should answer 404 problem+json for an unknown task', async () => {
    for (const path of ['/api/v1/tasks/nope', '/api/v1/tasks/nope/events']) {
      const response = await request(stack, 'GET', path);
      expect(response.status).toBe(404);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect((response.body as Problem).code).toBe('TASK_NOT_FOUND');
    }
    expect((await request(stack, 'POST', '/api/v1/tasks/nope/cancel')).status).toBe(404);
  });

  it('should answer 413 for a body over the limit', async () => {
    const response = await request(stack, 'POST', '/api/v1/tasks', { prompt: 'x'.repeat(100 * 1024) });
    expect(response.status).toBe(413);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect((response.body as Problem).title).toBe('Content Too Large');
    expect(await taskCount()).toBe(0);
  });

  it('should refuse a scenario when a real model is configured', async () => {
    await stack.stop('gateway');
    await stack.start(['gateway'], { SCRIPTED_MODEL_URL: '' });
    try {
      const response = await request(stack, 'POST', '/api/v1/tasks', {
        prompt: 'hi',
        scenario: 'write-file',
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        code: 'SCENARIO_NOT_AVAILABLE',
        errors: [{ field: 'scenario' }],
      });
      expect(await taskCount()).toBe(0);
    } finally {
      await stack.stop('gateway');
      await stack.start(['gateway']);
    }
  });

  it.each(SERVICES)(
    'should make %s exit non-zero with one line naming an unreachable Redis or Postgres',
    async (name) => {
      const noRedis = stack.spawn(name, { REDIS_URL: 'redis://127.0.0.1:1' });
      expect((await noRedis.exited).code).toBe(1);
      expect(noRedis.output).toEqual([
        `${name}: cannot reach Redis at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1`,
      ]);

      const noPostgres = stack.spawn(name, { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/hangar' });
      expect((await noPostgres.exited).code).toBe(1);
      expect(noPostgres.output).toEqual([
        expect.stringMatching(
          new RegExp(`^${name}: cannot reach PostgreSQL at 127\\.0\\.0\\.1:1/hangar: .*ECONNREFUSED`),
        ),
      ]);
    },
  );

  it('should make a service with a bad setting exit non-zero naming the variable', async () => {
    const bad = stack.spawn('gateway', { GATEWAY_PORT: 'eighty', DATABASE_URL: 'mysql://db' });
    expect((await bad.exited).code).toBe(1);
    expect(bad.output).toEqual([
      expect.stringMatching(
        /^gateway: config: DATABASE_URL \(PostgreSQL connection URL\): .*got "mysql:\/\/db"$/,
      ),
      expect.stringMatching(/^gateway: config: GATEWAY_PORT .*got "eighty"$/),
    ]);
  });
});
