import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import type { Task } from '@hangar/contracts';
import { ServiceStack } from '@hangar/testing';
import { git } from './git';
import { createTask, follow, getTask, request, runTask, signIn } from './support';

// The sandbox attacked as an agent running code from a stranger would: the repository's own
// hooks, a Bash command that goes after another running task, the runner's environment, the
// platform's PostgreSQL and Redis, and its own credential once its attempt is over. Every agent
// here runs with bypassPermissions (it may run anything): the sandbox is what holds it.
jest.setTimeout(180_000);

// Secrets the runner holds; none may show up in anything an agent can read.
const MODEL_KEY = 'sk-ant-e2e-real-key-must-not-leak';
const GIT_TOKEN = 'ghp_e2e_git_token_must_not_leak';

interface Attempt {
  ok: boolean;
  value?: string;
  error?: string;
}

describe('the sandbox of an agent', () => {
  let stack: ServiceStack;
  let repos: string;
  let runnerEndpoints: string;
  // A git host of the installation's on this machine (a plain listener is enough: the proxy's
  // CONNECT answer is what is looked at).
  let gitHost: Server;
  let gitHostAuthority: string;

  beforeAll(async () => {
    gitHost = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => gitHost.listen(0, '127.0.0.1', resolve));
    gitHostAuthority = `127.0.0.1:${(gitHost.address() as AddressInfo).port}`;
    stack = await ServiceStack.create('sandbox', {
      ANTHROPIC_API_KEY: MODEL_KEY,
      GIT_ALLOWED_HOSTS: `github.com,${gitHostAuthority}`,
      GIT_CREDENTIALS: JSON.stringify([{ host: 'github.com', token: GIT_TOKEN }]),
    });
    repos = path.join(stack.dataDir, 'repos');
    const scenarios = path.join(stack.dataDir, 'scenarios');
    mkdirSync(scenarios, { recursive: true });
    const bash = (name: string, command: string, description: string) =>
      writeFileSync(
        path.join(scenarios, `${name}.json`),
        JSON.stringify({
          description,
          steps: [
            {
              content: [{ type: 'tool_use', name: 'Bash', input: { command, description, timeout: 120000 } }],
            },
            { text: `${name} done.` },
          ],
        }),
      );
    bash('run-probe', 'node probe.js > probe-report.json', 'runs the repository probe');
    bash(
      'victim',
      'echo original > victim.txt && while [ ! -e release ]; do sleep 0.1; done; rm release',
      'writes victim.txt, then waits to be released',
    );
    // What the agent finds in a workspace made without a repository, then a repository of its own
    // in it, configured to run a program whenever git looks at its files.
    bash(
      'look-around',
      'ls -A > /tmp/listing && mv /tmp/listing listing.txt; git rev-parse --git-dir > git.txt 2>&1; git init -q && git config core.fsmonitor "touch fsmonitor-ran"',
      'lists the workspace, asks git where its repository is, makes one',
    );
    await stack.start(undefined, {
      SCRIPTED_MODEL_SCENARIOS_DIR: scenarios,
      WORKSPACE_ALLOWED_LOCAL_ROOTS: repos,
    });
    const runner = stack.processes.get('agent-runner')!;
    const line = await runner.waitForLine((text) => text.includes("agents' endpoints on"));
    runnerEndpoints = /agents' endpoints on (http:\/\/[^ "]+)/.exec(line)![1]!;
    const profile = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'anything-goes',
      permissionMode: 'bypassPermissions',
    });
    expect(profile.status).toBe(201);
  });

  afterAll(async () => {
    await stack?.dispose();
    gitHost?.close();
  });

  // A repository of the test's: the files given, committed.
  function repository(name: string, files: Record<string, string>): string {
    const dir = path.join(repos, name);
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q', '-b', 'main');
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), content);
    }
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'the repository');
    return dir;
  }

  const run = (body: Record<string, unknown>) => runTask(stack, body);

  // A script the agent runs (probe.js): each attempt at something outside its sandbox,
  // reported as what happened.
  function probeScript(targets: {
    victimWorkspace?: string;
    homesRoot?: string;
    runnerPid?: number;
    tunnels?: string[];
  }) {
    const postgresPort = Number(new URL(stack.database.url).port || 5432);
    return `
const fs = require('fs');
const net = require('net');
const targets = ${JSON.stringify(targets)};
const report = {};
const attempt = (name, action) => {
  try { report[name] = { ok: true, value: String(action()).slice(0, 500) }; }
  catch (error) { report[name] = { ok: false, error: error.code || error.message }; }
};
const connectTo = (port, host = '127.0.0.1') => new Promise((resolve) => {
  const socket = net.connect(port, host);
  socket.setTimeout(3000, () => { socket.destroy(); resolve({ ok: false, error: 'timeout' }); });
  socket.on('connect', () => { socket.destroy(); resolve({ ok: true }); });
  socket.on('error', (error) => resolve({ ok: false, error: error.code }));
});
// Through the runner's egress proxy, with this attempt's own credential.
const tunnel = (authority, withCredential = true) => new Promise((resolve) => {
  const proxy = new URL(process.env.HTTPS_PROXY);
  const socket = net.connect(Number(proxy.port), proxy.hostname);
  const basic = Buffer.from(decodeURIComponent(proxy.username) + ':' + decodeURIComponent(proxy.password)).toString('base64');
  const credential = withCredential ? 'Proxy-Authorization: Basic ' + basic + '\\r\\n' : '';
  socket.on('connect', () => socket.write('CONNECT ' + authority + ' HTTP/1.1\\r\\nHost: ' + authority + '\\r\\n' + credential + '\\r\\n'));
  socket.once('data', (data) => { socket.destroy(); resolve({ ok: true, value: data.toString().split('\\r\\n')[0] }); });
  socket.on('error', (error) => resolve({ ok: false, error: error.code }));
});
(async () => {
  if (targets.victimWorkspace) {
    attempt('readVictim', () => fs.readFileSync(targets.victimWorkspace + '/victim.txt', 'utf8'));
    attempt('writeVictim', () => fs.writeFileSync(targets.victimWorkspace + '/victim.txt', 'pwned'));
  }
  if (targets.homesRoot) attempt('listHomes', () => fs.readdirSync(targets.homesRoot).join(','));
  if (targets.runnerPid) attempt('runnerEnviron', () => fs.readFileSync('/proc/' + targets.runnerPid + '/environ', 'utf8'));
  // Every process this agent can see, and each one's environment.
  const environs = [];
  for (const pid of fs.readdirSync('/proc').filter((entry) => /^\\d+$/.test(entry))) {
    try { environs.push(fs.readFileSync('/proc/' + pid + '/environ', 'utf8').split('\\0').join('\\n')); } catch {}
  }
  report.environs = environs;
  report.ownEnv = process.env;
  report.postgres = await connectTo(${postgresPort});
  report.redis = await connectTo(6379);
  if (process.env.HTTPS_PROXY) report.proxyToPostgres = await tunnel('127.0.0.1:${postgresPort}');
  report.tunnels = {};
  for (const authority of targets.tunnels ?? []) report.tunnels[authority] = await tunnel(authority);
  if (targets.tunnels) report.tunnelWithoutCredential = await tunnel(targets.tunnels[0], false);
  report.home = process.env.HOME;
  report.cwd = process.cwd();
  console.log(JSON.stringify(report));
})();
`;
  }

  type Report = Record<string, Attempt> & {
    environs: string[];
    ownEnv: Record<string, string>;
    postgres: Attempt;
    redis: Attempt;
    proxyToPostgres: Attempt;
    tunnels: Record<string, Attempt>;
    tunnelWithoutCredential: Attempt;
    cwd: string;
  };

  function report(task: Task): Report {
    return JSON.parse(readFileSync(path.join(task.workspace!, 'probe-report.json'), 'utf8')) as Report;
  }

  function expectNoPlatformSecret(texts: string[]) {
    const all = texts.join('\n');
    for (const secret of [
      MODEL_KEY,
      GIT_TOKEN,
      stack.database.url,
      'DATABASE_URL',
      'REDIS_URL',
      'redis://',
      'postgresql://',
      stack.adminToken,
      stack.admin.password,
    ])
      expect(all).not.toContain(secret);
  }

  it("should hold no provider key, database or Redis address or git token in the agent's environment", async () => {
    const repo = repository('environment', { 'probe.js': probeScript({}) });
    const task = await run({
      prompt: 'probe',
      profile: 'anything-goes',
      scenario: 'run-probe',
      repository: repo,
    });
    expect(task.status).toBe('COMPLETED');
    expect(task.sandbox).toBe('bwrap');
    const found = report(task);
    expect(found.cwd).toBe('/workspace');
    // The CLI's own environment (it is one of the processes the agent sees) and the command's.
    expect(found.environs.some((environ) => environ.includes('CLAUDE_CONFIG_DIR=/home/agent/.claude'))).toBe(
      true,
    );
    expect(found.ownEnv.ANTHROPIC_API_KEY).toMatch(/^hga_/);
    expectNoPlatformSecret([...found.environs, JSON.stringify(found.ownEnv)]);
  });

  it("should give a task without a repository an empty folder, Hangar's repository out of the agent's reach", async () => {
    const task = await run({ prompt: 'look around', profile: 'anything-goes', scenario: 'look-around' });
    expect(task.status).toBe('COMPLETED');
    // As the CLI run by hand in an empty folder: nothing in it, no repository around it (nor
    // does the CLI spend its start on git, or the model's context on Hangar's branch).
    expect(readFileSync(path.join(task.workspace!, 'listing.txt'), 'utf8')).toBe('');
    expect(readFileSync(path.join(task.workspace!, 'git.txt'), 'utf8')).toMatch(/not a git repository/);
    // Its diff is still every file it made, taken from the repository beside the folder; the
    // repository the agent made in the folder is not looked at, its program never run.
    const diff = await request(stack, 'GET', `/api/v1/tasks/${task.id}/diff`);
    expect(diff.status).toBe(200);
    expect((diff.body as { files: { path: string }[] }).files.map((file) => file.path).sort()).toEqual([
      'git.txt',
      'listing.txt',
    ]);
    expect(existsSync(path.join(task.workspace!, 'fsmonitor-ran'))).toBe(false);
    expect(task.branch).toBe(`hangar/${task.id}`);
  });

  it("should keep one task's Bash away from another running task, the runner, PostgreSQL and Redis", async () => {
    const victim = await createTask(stack, {
      prompt: 'hold on',
      profile: 'anything-goes',
      scenario: 'victim',
    });
    const watching = follow(stack, victim.id);
    await watching.waitFor((event) => event.type === 'tool.use');
    const running = await getTask(stack, victim.id);
    // victim.txt exists once its command started writing; the attacker runs meanwhile.
    const victimFile = path.join(running.workspace!, 'victim.txt');
    const deadline = Date.now() + 30_000;
    while (!existsSync(victimFile) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));

    const repo = repository('attacker', {
      'probe.js': probeScript({
        victimWorkspace: running.workspace!,
        homesRoot: path.join(stack.dataDir, 'homes'),
        runnerPid: stack.processes.get('agent-runner')!.child.pid!,
      }),
    });
    const attacker = await run({
      prompt: 'attack',
      profile: 'anything-goes',
      scenario: 'run-probe',
      repository: repo,
    });
    expect(attacker.status).toBe('COMPLETED');
    const found = report(attacker);
    expect(found.readVictim).toEqual({ ok: false, error: 'ENOENT' });
    expect(found.writeVictim).toEqual({ ok: false, error: 'ENOENT' });
    expect(found.listHomes).toEqual({ ok: false, error: 'ENOENT' });
    expect(found.runnerEnviron).toEqual({ ok: false, error: 'ENOENT' });
    expect(found.postgres).toEqual({ ok: false, error: 'ECONNREFUSED' });
    expect(found.redis).toEqual({ ok: false, error: 'ECONNREFUSED' });
    expect(found.proxyToPostgres).toEqual({ ok: true, value: 'HTTP/1.1 403 Forbidden' });
    expectNoPlatformSecret(found.environs);

    // The victim goes on, untouched.
    writeFileSync(path.join(running.workspace!, 'release'), '');
    await watching.finished;
    watching.close();
    const after = await getTask(stack, victim.id);
    expect(after.status).toBe('COMPLETED');
    const diff = await request(stack, 'GET', `/api/v1/tasks/${victim.id}/diff`);
    expect((diff.body as { unifiedDiff: string }).unifiedDiff).toContain('+original');
    expect((diff.body as { files: { path: string }[] }).files.map((file) => file.path)).toEqual([
      'victim.txt',
    ]);
  });

  it("should let the agent's tools out only to the git hosts it may reach, the internet only when its profile allows", async () => {
    const postgres = `127.0.0.1:${new URL(stack.database.url).port || 5432}`;
    // A project admin lists the platform's own PostgreSQL as a git host: not the operator's
    // word, so only a public address would do.
    const listed = await request(stack, 'PUT', '/api/v1/projects/default/git-hosts', {
      items: [{ host: gitHostAuthority }, { host: postgres }],
    });
    expect(listed.status).toBe(200);
    const probe = probeScript({ tunnels: [gitHostAuthority, postgres, 'nowhere.invalid:443'] });
    const closed = report(
      await run({
        prompt: 'out',
        profile: 'anything-goes',
        scenario: 'run-probe',
        repository: repository('egress', { 'probe.js': probe }),
      }),
    );
    expect(closed.tunnels).toEqual({
      [gitHostAuthority]: { ok: true, value: 'HTTP/1.1 200 Connection Established' },
      [postgres]: { ok: true, value: 'HTTP/1.1 403 Forbidden' },
      'nowhere.invalid:443': { ok: true, value: 'HTTP/1.1 403 Forbidden' },
    });
    expect(closed.tunnelWithoutCredential).toEqual({
      ok: true,
      value: 'HTTP/1.1 407 Proxy Authentication Required',
    });

    const internet = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'online',
      permissionMode: 'bypassPermissions',
      internetAccess: true,
    });
    expect(internet.status).toBe(201);
    const open = report(
      await run({
        prompt: 'out',
        profile: 'online',
        scenario: 'run-probe',
        repository: repository('egress-online', { 'probe.js': probe }),
      }),
    );
    // The internet, not the runner's network: loopback stays shut.
    expect(open.tunnels[postgres]).toEqual({ ok: true, value: 'HTTP/1.1 403 Forbidden' });
    expect(open.tunnels[gitHostAuthority]).toEqual({
      ok: true,
      value: 'HTTP/1.1 200 Connection Established',
    });
    await request(stack, 'PUT', '/api/v1/projects/default/git-hosts', { items: [] });
  });

  it("should refuse an attempt's credential once the attempt is over", async () => {
    const repo = repository('credential', { 'probe.js': probeScript({}) });
    const task = await run({
      prompt: 'probe',
      profile: 'anything-goes',
      scenario: 'run-probe',
      repository: repo,
    });
    const token = report(task).ownEnv.ANTHROPIC_API_KEY!;
    const answer = await fetch(`${runnerEndpoints}/model/claude/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-x',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toEqual({
      type: 'error',
      error: {
        type: 'authentication_error',
        message: expect.stringMatching(/has ended|was revoked/),
      },
    });
  });

  it("should put the profile's subagents and skills in the run's home, never through a repository's .claude link", async () => {
    const outside = path.join(stack.dataDir, 'claude-link-target');
    mkdirSync(outside);
    const repo = repository('linked-claude', { 'README.md': 'a link in here\n' });
    symlinkSync(outside, path.join(repo, '.claude'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'a .claude that leaves the repository');
    const profile = await request(stack, 'POST', '/api/v1/profiles', {
      name: 'with-files',
      agents: { 'style-checker': '---\nname: style-checker\ndescription: Checks style\n---\nCheck.\n' },
      skills: { 'release-notes': '---\nname: release-notes\ndescription: Notes\n---\nWrite them.\n' },
    });
    expect(profile.status).toBe(201);
    const task = await run({ prompt: 'hello', profile: 'with-files', scenario: 'reply', repository: repo });
    expect(task.status).toBe('COMPLETED');
    expect(readdirSync(outside)).toEqual([]);
  });

  describe("a repository's SessionStart hook", () => {
    // The hook writes a mark in the workspace, tries one outside it, and looks for the
    // platform's secrets in every environment it can read.
    const hookRepository = (name: string) =>
      repository(name, {
        '.claude/settings.json': JSON.stringify({
          hooks: { SessionStart: [{ hooks: [{ type: 'command', command: 'node hook.js' }] }] },
        }),
        'hook.js': `
const fs = require('fs');
const outside = ${JSON.stringify(path.join(stack.dataDir, 'hook-was-here'))};
let wroteOutside = false;
try { fs.writeFileSync(outside, 'x'); wroteOutside = true; } catch {}
const environs = [];
for (const pid of fs.readdirSync('/proc').filter((entry) => /^\\d+$/.test(entry))) {
  try { environs.push(fs.readFileSync('/proc/' + pid + '/environ', 'utf8')); } catch {}
}
fs.writeFileSync('hook-ran.json', JSON.stringify({ wroteOutside, environs }));
`,
      });

    it('should not run for a profile that does not trust repository settings', async () => {
      const task = await run({
        prompt: 'hello',
        profile: 'anything-goes',
        scenario: 'reply',
        repository: hookRepository('hooked'),
      });
      expect(task.status).toBe('COMPLETED');
      expect(existsSync(path.join(task.workspace!, 'hook-ran.json'))).toBe(false);
      expect(existsSync(path.join(stack.dataDir, 'hook-was-here'))).toBe(false);
    });

    it('should run inside the sandbox only, for a profile that trusts repository settings', async () => {
      // Only an instance administrator may let a profile trust repositories.
      const trusting = await request(
        stack,
        'POST',
        '/api/v1/profiles',
        { name: 'trusts-repositories', permissionMode: 'bypassPermissions', trustRepositorySettings: true },
        { authorization: '', cookie: await signIn(stack, stack.admin.email, stack.admin.password) },
      );
      expect(trusting.status).toBe(201);
      const task = await run({
        prompt: 'hello',
        profile: 'trusts-repositories',
        scenario: 'reply',
        repository: hookRepository('hooked-trusted'),
      });
      expect(task.status).toBe('COMPLETED');
      const ran = JSON.parse(readFileSync(path.join(task.workspace!, 'hook-ran.json'), 'utf8')) as {
        wroteOutside: boolean;
        environs: string[];
      };
      expect(ran.wroteOutside).toBe(false);
      expect(existsSync(path.join(stack.dataDir, 'hook-was-here'))).toBe(false);
      expect(ran.environs.length).toBeGreaterThan(0);
      expectNoPlatformSecret(ran.environs);
    });
  });
});
