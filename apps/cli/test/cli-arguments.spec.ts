import { runCli } from '../src/cli';
import { FakeGateway, type Handler, taskJson } from './support/fake-gateway';
import { testContext } from './support/test-context';

describe(runCli.name, () => {
  let gateway: FakeGateway | undefined;
  const startGateway = async (handler: Handler): Promise<string> => {
    gateway = new FakeGateway(handler);
    return gateway.start();
  };

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
  });

  it('should refuse an empty prompt before sending anything', async () => {
    const api = await startGateway(() => ({ status: 201, body: taskJson() }));
    const context = testContext();
    const code = await runCli(['run', '', '--api', api], context);
    expect(code).toBe(1);
    expect(context.io.stderr).toEqual(['error: prompt: must not be empty']);
    expect(gateway?.requests).toEqual([]);
  });

  it('should send prompt, scenario, profile and timeout and print the task id', async () => {
    const api = await startGateway(() => ({ status: 201, body: taskJson() }));
    const context = testContext();
    const code = await runCli(
      [
        'run',
        'write a file',
        '--scenario',
        'write-file',
        '--profile',
        'default',
        '--timeout',
        '30',
        '--api',
        api,
      ],
      context,
    );
    expect(code).toBe(0);
    expect(gateway?.requests).toEqual([
      {
        method: 'POST',
        url: '/api/v1/tasks',
        body: { prompt: 'write a file', scenario: 'write-file', profile: 'default', timeoutSeconds: 30 },
      },
    ]);
    expect(context.io.stdout).toEqual(['task-123']);
  });

  it('should take the gateway address from HANGAR_API_URL when --api is absent', async () => {
    const api = await startGateway(() => ({ status: 201, body: taskJson() }));
    const context = testContext({ HANGAR_API_URL: api });
    expect(await runCli(['run', 'hello', '--json'], context)).toBe(0);
    expect(JSON.parse(context.io.stdout.join('\n'))).toMatchObject({ id: 'task-123', status: 'QUEUED' });
  });

  it('should print each field error of a problem+json answer on its own line', async () => {
    const api = await startGateway(() => ({
      status: 400,
      contentType: 'application/problem+json',
      body: {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'the request is invalid',
        traceId: 'trace-1',
        errors: [{ field: 'scenario', message: 'scenarios need the scripted model' }],
      },
    }));
    const context = testContext();
    expect(await runCli(['run', 'hello', '--scenario', 'reply', '--api', api], context)).toBe(1);
    expect(context.io.stderr).toEqual([
      'error: scenario: scenarios need the scripted model',
      '(HTTP 400, trace trace-1)',
    ]);
  });

  it('should print the detail of a problem without field errors', async () => {
    const api = await startGateway(() => ({
      status: 404,
      contentType: 'application/problem+json',
      body: {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'task nope does not exist',
        code: 'TASK_NOT_FOUND',
      },
    }));
    const context = testContext();
    expect(await runCli(['status', 'nope', '--api', api], context)).toBe(1);
    expect(context.io.stderr).toEqual(['error: task nope does not exist', '(HTTP 404, TASK_NOT_FOUND)']);
  });

  it('should show status, cost and tokens for hangar status', async () => {
    const api = await startGateway(() => ({
      status: 200,
      body: taskJson({
        status: 'COMPLETED',
        costUsd: 0.5,
        usage: { inputTokens: 10, outputTokens: 20, cacheReadTokens: 0, cacheCreationTokens: 0 },
        numTurns: 1,
        durationMs: 900,
        result: 'Wrote hello.txt',
      }),
    }));
    const context = testContext();
    expect(await runCli(['status', 'task-123', '--api', api], context)).toBe(0);
    expect(gateway?.requests[0]).toMatchObject({ method: 'GET', url: '/api/v1/tasks/task-123' });
    expect(context.io.stdout).toContain('COMPLETED · $0.5000 · 10 in / 20 out tokens · 1 turn · 900ms');
    expect(context.io.stdout).toContain('Wrote hello.txt');
  });

  it('should post to the cancel route and show the resulting status', async () => {
    const api = await startGateway(() => ({
      status: 200,
      body: taskJson({ status: 'CANCELLED', error: 'cancelled: by user' }),
    }));
    const context = testContext();
    expect(await runCli(['cancel', 'task-123', '--api', api], context)).toBe(0);
    expect(gateway?.requests[0]).toMatchObject({ method: 'POST', url: '/api/v1/tasks/task-123/cancel' });
    expect(context.io.stdout).toEqual(['task task-123', 'CANCELLED', 'error: cancelled: by user']);
  });

  it('should say the gateway cannot be reached when nothing listens', async () => {
    const api = await startGateway(() => ({ status: 500, body: {} }));
    await gateway?.stop();
    gateway = undefined;
    const context = testContext();
    expect(await runCli(['run', 'hello', '--api', api], context)).toBe(1);
    expect(context.io.stderr[0]).toBe(`error: cannot reach the gateway at ${api} (ECONNREFUSED)`);
  });

  it('should reject a port flag that is not a port', async () => {
    const context = testContext();
    expect(await runCli(['up', '--gateway-port', '70000'], context)).toBe(1);
    expect(context.io.stderr[0]).toMatch(/--gateway-port <port>.*must be a TCP port/);
  });

  it('should fail on an unknown command and exit 0 on --help', async () => {
    const unknown = testContext();
    expect(await runCli(['launch'], unknown)).toBe(1);
    expect(unknown.io.stderr[0]).toMatch(/unknown command 'launch'/);
    const help = testContext();
    expect(await runCli(['--help'], help)).toBe(0);
    expect(help.io.stdout.join('\n')).toMatch(/run \[options\] <prompt>/);
  });

  it('should refuse an invalid HANGAR_API_URL when reading the environment', () => {
    expect(() => testContext({ HANGAR_API_URL: 'not a url' })).toThrow(
      /HANGAR_API_URL: must be a http: or https:\/\/ URL/,
    );
  });
});
