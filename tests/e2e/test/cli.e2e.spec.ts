import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, ServiceStack } from '@hangar/testing';
import { request } from './support';

const CLI = path.join(REPO_ROOT, 'apps/cli/dist/main.js');

// `hangar up` and `hangar run` as a user runs them: the real CLI starting the real stack.
describe('the hangar command', () => {
  let stack: ServiceStack;
  let up: ReturnType<typeof spawn>;
  const upOutput: string[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    // Only for its database, Redis prefix, free ports and folders: `up` starts the processes.
    stack = await ServiceStack.create('cli');
    env = stack.environment();
    delete env.SCRIPTED_MODEL_URL; // `up` starts its own scripted model when no key is set
    // As on a fresh machine: `up` makes the first administrator and a token for this machine.
    delete env.HANGAR_ADMIN_TOKEN;
    delete env.HANGAR_ADMIN_EMAIL;
    delete env.HANGAR_ADMIN_PASSWORD;
    env.HANGAR_HOME = path.join(stack.dataDir, '.hangar');
    up = spawn(process.execPath, [CLI, 'up', '--no-dashboard'], {
      cwd: stack.dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: up.stdout! });
    up.stderr!.on('data', (chunk: Buffer) => upOutput.push(chunk.toString('utf8')));
    const ready = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        upOutput.push(line);
        // The banner after `hangar is up` ends with the curl line: wait for the whole of it.
        if (line.trim().startsWith('curl ') && upOutput.some((seen) => seen.includes('hangar is up')))
          resolve();
      });
      up.once('exit', (code) =>
        reject(new Error(`hangar up exited ${code} before it was up:\n${upOutput.join('\n')}`)),
      );
    });
    await ready;
  });

  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGKILL');
      await once(up, 'exit');
    }
    await stack?.dispose();
  });

  const credentials = () =>
    JSON.parse(readFileSync(path.join(env.HANGAR_HOME!, 'credentials.json'), 'utf8')) as {
      email: string;
      password: string;
      token: string;
    };
  const asMachineAdmin = () => ({ authorization: `Bearer ${credentials().token}` });

  it('should say the scripted model is in use and print a curl that starts a task', async () => {
    const text = upOutput.join('\n');
    expect(text).toMatch(/scripted model/i);
    const curl = text.split('\n').find((line) => line.trim().startsWith('curl '));
    expect(curl).toContain(`http://127.0.0.1:${stack.ports.get('gateway')}/api/v1/tasks`);
    // The machine's credentials: private to this user, shown in the banner, and they work.
    const made = credentials();
    expect(statSync(path.join(env.HANGAR_HOME!, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(text).toContain(`${made.email} / ${made.password}`);
    expect(curl).toContain(`authorization: Bearer ${made.token}`);
    const me = await request(stack, 'GET', '/api/v1/auth/me', undefined, asMachineAdmin());
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'token', projects: [{ slug: 'default', role: 'admin' }] });
  });

  it('should run a task with `hangar run --follow` and show the agent at work', async () => {
    const run = spawn(
      process.execPath,
      [CLI, 'run', 'write a file', '--scenario', 'write-file', '--follow'],
      {
        cwd: stack.dataDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const [code] = (await once(run, 'exit')) as [number | null];
    expect(output).toMatch(/Write\(hello\.txt\)/);
    expect(output).toMatch(/COMPLETED/);
    expect(code).toBe(0);

    const taskId = /\b(c[a-z0-9]{20,})\b/.exec(output)?.[1];
    expect(taskId).toBeDefined();
    const task = (await request(stack, 'GET', `/api/v1/tasks/${taskId}`, undefined, asMachineAdmin()))
      .body as {
      workspace: string;
      status: string;
    };
    expect(task.status).toBe('COMPLETED');
    expect(readFileSync(path.join(task.workspace, 'hello.txt'), 'utf8')).toBe('hello from hangar\n');
  });

  it('should exit non-zero and name the field when the input is bad', async () => {
    const run = spawn(process.execPath, [CLI, 'run', 'hi', '--scenario', 'Not A Scenario'], {
      cwd: stack.dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const [code] = (await once(run, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(output).toMatch(/scenario/);
  });

  it('should stop every process and exit 0 on SIGTERM', async () => {
    up.kill('SIGTERM');
    const [code] = (await once(up, 'exit')) as [number | null];
    expect(code).toBe(0);
    // Nothing it started still listens.
    const listening: string[] = [];
    for (const [name, port] of stack.ports) {
      const answered = await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      );
      if (answered) listening.push(name);
    }
    expect(listening).toEqual([]);
  });
});
