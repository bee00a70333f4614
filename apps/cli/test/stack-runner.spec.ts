import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackPorts } from '../src/config/cli-env';
import { READY_LINE, StackRunner } from '../src/stack/stack-runner';
import { freePort } from '@hangar/testing';
import { testContext } from './support/test-context';

// Stand-ins for the built services: real processes that serve the health routes `up` waits on.
// They test the supervisor (start, readiness, logs, failure reports, shutdown), not the services.
const FAKE_SERVICE = `
const http = require('node:http');
module.exports = (portVariable, behaviour = {}) => {
  if (behaviour.failAtStart) {
    console.error('boom: cannot reach the database');
    process.exit(3);
  }
  const port = Number(process.env[portVariable]);
  const server = http.createServer((req, res) => {
    if (req.url === '/health/ready' || req.url === '/health/live' || (behaviour.anyPath && req.url === '/')) {
      res.writeHead(200).end('ok');
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, '127.0.0.1', () => {
    console.log(JSON.stringify({ level: 30, time: Date.now(), context: 'Main', msg: 'listening', port }));
    if (behaviour.dieAfterMs) setTimeout(() => { console.error('lost the redis connection'); process.exit(4); }, behaviour.dieAfterMs);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
};
`;

const SERVICES: [string, string][] = [
  ['gateway', 'GATEWAY_PORT'],
  ['websocket-pool', 'WEBSOCKET_POOL_PORT'],
  ['orchestrator', 'ORCHESTRATOR_PORT'],
  ['agent-runner', 'AGENT_RUNNER_PORT'],
  ['metrics', 'METRICS_PORT'],
];

function writeFakeRepo(root: string, behaviours: Record<string, object> = {}): void {
  writeFileSync(path.join(root, 'fake-service.js'), FAKE_SERVICE);
  const write = (relative: string, body: string): void => {
    mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    writeFileSync(path.join(root, relative), body);
  };
  for (const [name, variable] of SERVICES) {
    write(
      `services/${name}/dist/main.js`,
      `require(${JSON.stringify(path.join(root, 'fake-service.js'))})(${JSON.stringify(variable)}, ${JSON.stringify(behaviours[name] ?? {})});`,
    );
  }
  write('libs/db/dist/migrate-cli.js', `console.log('applied 0 migrations to ' + process.env.DATABASE_URL);`);
  // Like a scripted model without a /health route: `up` accepts its 404 as "listening".
  write(
    'libs/agents/dist/scripted-model/main.js',
    `require(${JSON.stringify(path.join(root, 'fake-service.js'))})('SCRIPTED_MODEL_PORT', {});`,
  );
  write('libs/agents/scenarios/reply.json', '{}');
  write('libs/agents/scenarios/write-file.json', '{}');
}

async function ports(): Promise<StackPorts> {
  return {
    gateway: await freePort(),
    websocketPool: await freePort(),
    orchestrator: await freePort(),
    agentRunner: await freePort(),
    metrics: await freePort(),
    scriptedModel: await freePort(),
    dashboard: await freePort(),
  };
}

async function waitForLine(lines: string[], pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!lines.some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`no line matched ${pattern}:\n${lines.join('\n')}`);
    await sleep(50);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe(StackRunner.name, () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'hangar-up-'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const runner = async (behaviours: Record<string, object> = {}) => {
    writeFakeRepo(root, behaviours);
    const context = testContext({ ANTHROPIC_API_KEY: '' });
    const stackPorts = await ports();
    const stack = new StackRunner(
      { ...context.env, repoRoot: root, hangarHome: path.join(root, '.hangar') },
      context.io,
      { ports: stackPorts, dashboard: true, readyTimeoutMs: 20_000, stopGraceMs: 5_000, rawLogs: false },
      context.shutdown.signal,
    );
    return { stack, context, stackPorts };
  };

  it('should start everything, say it is up, and stop every child with exit code 0 on a shutdown signal', async () => {
    const { stack, context, stackPorts } = await runner();
    const exit = stack.run();
    await waitForLine(context.io.stdout, new RegExp(`^${READY_LINE}$`), 30_000);

    const out = context.io.stdout.join('\n');
    expect(out).toMatch(/migrate +│ applied 0 migrations to postgresql:\/\//);
    expect(out).toMatch(/gateway +│ INFO {2}\[Main\] listening port=\d+/);
    expect(out).toMatch(/tasks run against the SCRIPTED MODEL/);
    expect(out).toMatch(/scenarios?: reply, write-file/);
    expect(out).toMatch(/the dashboard is not built/);
    // The first start makes this machine's administrator and token, and shows how to use them.
    const credentials = JSON.parse(readFileSync(path.join(root, '.hangar', 'credentials.json'), 'utf8')) as {
      email: string;
      password: string;
      token: string;
    };
    expect(credentials.token).toMatch(/^hgr_[A-Za-z0-9]{40}$/);
    expect(out).toContain(`Sign in    ${credentials.email} / ${credentials.password}`);
    expect(out).toContain(
      `curl -s -X POST http://127.0.0.1:${stackPorts.gateway}/api/v1/tasks ` +
        `-H 'authorization: Bearer ${credentials.token}' -H 'content-type: application/json' ` +
        `-d '{"prompt":"write a file","scenario":"write-file"}'`,
    );
    const health = await fetch(`http://127.0.0.1:${stackPorts.metrics}/health/ready`);
    expect(health.status).toBe(200);
    const pids = [...out.matchAll(/listening port=(\d+)/g)].length;
    expect(pids).toBe(6);

    context.shutdown.abort();
    await expect(exit).resolves.toBe(0);
    for (const port of Object.values(stackPorts)) {
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    }
    expect(context.io.stdout.at(-1)).toMatch(/stopped$/);
  }, 60_000);

  it('should fail with the last lines of a child that dies while starting, and stop the others', async () => {
    const { stack, context } = await runner({ gateway: { failAtStart: true } });
    await expect(stack.run()).resolves.toBe(1);
    expect(context.io.stderr[0]).toBe('✗ gateway exited with code 3 while starting');
    expect(context.io.stderr.join('\n')).toMatch(/gateway │ boom: cannot reach the database/);
    expect(context.io.stdout.join('\n')).not.toMatch(new RegExp(READY_LINE));
  }, 60_000);

  it('should stop the stack with exit code 1 when a child dies after start', async () => {
    const { stack, context } = await runner({ orchestrator: { dieAfterMs: 1_500 } });
    const exit = stack.run();
    await expect(exit).resolves.toBe(1);
    expect(context.io.stderr[0]).toBe('✗ orchestrator exited with code 4');
    expect(context.io.stderr.join('\n')).toMatch(/lost the redis connection/);
  }, 60_000);

  it('should name the port and the flag when a port is taken', async () => {
    const { stack, context, stackPorts } = await runner();
    const { createServer } = await import('node:net');
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(stackPorts.gateway, '127.0.0.1', resolve));
    try {
      await expect(stack.run()).resolves.toBe(1);
      expect(context.io.stderr[0]).toBe(
        `✗ port ${stackPorts.gateway} (gateway) is in use; pick another with --gateway-port or GATEWAY_PORT`,
      );
    } finally {
      squatter.close();
    }
  }, 60_000);

  it('should not leave a child running after it stops', async () => {
    const { stack, context } = await runner();
    const exit = stack.run();
    await waitForLine(context.io.stdout, new RegExp(`^${READY_LINE}$`), 30_000);
    const children = (stack as unknown as { processes: { pid: number | undefined }[] }).processes.map(
      (managed) => managed.pid,
    );
    context.shutdown.abort();
    await exit;
    for (const pid of children) expect(pid !== undefined && isAlive(pid)).toBe(false);
  }, 60_000);
});
