import type { AgentEventOf, Problem, TaskEvent } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { createTask, follow, getTask, request } from './support';

// The same platform path with the other agent CLIs, each against the scripted model's API for it.
describe('agent providers', () => {
  let stack: ServiceStack;

  beforeAll(async () => {
    stack = await ServiceStack.create('providers');
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it.each([
    ['codex', 'codex-shell', {}],
    ['gemini', 'gemini-shell', { permissionMode: 'bypassPermissions' }],
  ])(
    'should run a %s task for real and store its result like a Claude one',
    async (provider, scenario, extra) => {
      expect(
        (await request(stack, 'POST', '/api/v1/profiles', { name: provider, provider, ...extra })).status,
      ).toBe(201);
      const task = await createTask(stack, { prompt: 'run a command', profile: provider, scenario });
      const follower = follow(stack, task.id);
      const events = await follower.finished;
      follower.close();
      expect(events.at(-1)).toMatchObject({ type: 'task.status', data: { status: 'COMPLETED' } });
      expect(events.map((event) => event.type)).toEqual(
        expect.arrayContaining(['system.init', 'tool.use', 'tool.result', 'result']),
      );
      const result = events.find(
        (event): event is TaskEvent & AgentEventOf<'result'> => event.type === 'result',
      )!;
      const done = await getTask(stack, task.id);
      expect(done).toMatchObject({
        status: 'COMPLETED',
        usage: result.data.usage,
        agentSessionId: result.data.sessionId,
        exitCode: 0,
      });
      expect(done.usage?.inputTokens).toBeGreaterThan(0);
      expect(done.result).toBeTruthy();
    },
  );

  it('should pick the scenario named by a marker in the prompt, and refuse a marker naming none', async () => {
    const task = await createTask(stack, { prompt: 'please [scenario: write-file]' });
    const follower = follow(stack, task.id);
    const events = await follower.finished;
    follower.close();
    expect(
      events.some((event) => event.type === 'tool.use' && (event.data as { name: string }).name === 'Write'),
    ).toBe(true);

    const refused = await request(stack, 'POST', '/api/v1/tasks', {
      prompt: 'please [scenario: no-such-thing]',
    });
    expect(refused.status).toBe(400);
    expect((refused.body as Problem).errors?.[0]?.field).toBe('prompt');
  });
});
