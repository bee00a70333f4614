import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  prepareSandboxHost,
  probeSandbox,
  launchScript,
  sandboxCommand,
  SANDBOX_HOME,
  SANDBOX_LAUNCH_FILE,
  SANDBOX_READY_FD,
  SANDBOX_RUNNER_URL,
  SANDBOX_WORKSPACE,
  SandboxUnavailable,
  spareSandboxCommand,
  type SandboxHost,
  type SandboxRun,
  writeSandboxEtc,
} from '../src';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function inSandbox(script: string, run: SandboxRun, host: SandboxHost, env: Record<string, string> = {}) {
  const command = sandboxCommand(
    { command: '/bin/sh', args: ['-c', script], env: { PATH: '/usr/bin:/bin', ...env } },
    run,
    host,
  );
  return new Promise<Ran>((resolve) => {
    execFile(command.command, command.args, { env: command.env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('writeSandboxEtc', () => {
  let root: string;

  beforeAll(() => (root = mkdtempSync(path.join(tmpdir(), 'hangar-sandbox-etc-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('should copy the listed entries any user may read, keep links into the system as links, and leave the rest out', () => {
    const hostEtc = path.join(root, 'host-etc');
    mkdirSync(path.join(hostEtc, 'ssl', 'certs'), { recursive: true });
    mkdirSync(path.join(hostEtc, 'ssl', 'private'), { mode: 0o710 });
    writeFileSync(path.join(hostEtc, 'ssl', 'private', 'host.key'), 'secret', { mode: 0o600 });
    writeFileSync(path.join(hostEtc, 'ssl', 'certs', 'bundle.crt'), 'certs', { mode: 0o644 });
    symlinkSync('bundle.crt', path.join(hostEtc, 'ssl', 'certs', 'abcd.0'));
    writeFileSync(path.join(hostEtc, 'ssl', 'openssl.cnf'), 'cnf', { mode: 0o640 });
    symlinkSync('/usr/share/zoneinfo/Etc/UTC', path.join(hostEtc, 'localtime'));
    writeFileSync(path.join(root, 'elsewhere'), 'from outside', { mode: 0o644 });
    symlinkSync(path.join(root, 'elsewhere'), path.join(hostEtc, 'nsswitch.conf'));
    writeFileSync(path.join(hostEtc, 'shadow'), 'not listed', { mode: 0o644 });

    const etc = writeSandboxEtc(root, hostEtc);

    expect(readdirSync(etc).sort()).toEqual([
      'group',
      'hosts',
      'localtime',
      'nsswitch.conf',
      'passwd',
      'ssl',
    ]);
    expect(readdirSync(path.join(etc, 'ssl'))).toEqual(['certs']);
    expect(readlinkSync(path.join(etc, 'localtime'))).toBe('/usr/share/zoneinfo/Etc/UTC');
    expect(readlinkSync(path.join(etc, 'ssl', 'certs', 'abcd.0'))).toBe('bundle.crt');
    expect(readFileSync(path.join(etc, 'ssl', 'certs', 'bundle.crt'), 'utf8')).toBe('certs');
    expect(lstatSync(path.join(etc, 'nsswitch.conf')).isSymbolicLink()).toBe(false);
    expect(readFileSync(path.join(etc, 'nsswitch.conf'), 'utf8')).toBe('from outside');
    expect(readFileSync(path.join(etc, 'passwd'), 'utf8')).toContain('agent:x:1000:1000');
  });
});

describe('sandboxCommand', () => {
  let root: string;
  let host: SandboxHost;
  let workspace: string;
  let home: string;
  let neighbour: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'hangar-sandbox-spec-'));
    host = prepareSandboxHost({ dir: path.join(root, 'host') });
    workspace = path.join(root, 'task-a', 'workspace');
    home = path.join(root, 'task-a', 'home');
    neighbour = path.join(root, 'task-b', 'workspace');
    for (const dir of [workspace, home, neighbour]) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(neighbour, 'secret.txt'), 'task b only');
    writeFileSync(path.join(workspace, 'hello.txt'), 'hello');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('should run the command in its workspace as an unprivileged user with only its own environment', async () => {
    const ran = await inSandbox(
      'id -u; hostname; pwd; cat hello.txt; echo; env | sort; tr "\\0" "\\n" < /proc/1/environ | wc -c',
      { workspace, home },
      host,
      { TASK_VALUE: 'x' },
    );
    expect(ran.stderr).toBe('');
    const lines = ran.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['1000', 'hangar-sandbox', SANDBOX_WORKSPACE, 'hello']);
    // Only what the command was given (sh adds PWD and SHLVL), and nothing in PID 1's environment.
    const names = lines.slice(4, -1).map((line) => line.split('=')[0]);
    expect(names.filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name ?? ''))).toEqual([
      'PATH',
      'TASK_VALUE',
    ]);
    expect(lines.at(-1)).toBe('0');
  });

  it('should let the command write its workspace, home and /tmp and nothing else', async () => {
    const ran = await inSandbox(
      [
        'echo changed > hello.txt && echo workspace-ok',
        `echo x > ${SANDBOX_HOME}/note && echo home-ok`,
        'echo x > /tmp/t && echo tmp-ok',
        'echo x > /usr/evil 2>/dev/null || echo usr-refused',
        'echo x > /etc/evil 2>/dev/null || echo etc-refused',
      ].join('; '),
      { workspace, home },
      host,
    );
    expect(ran.stdout.trim().split('\n')).toEqual([
      'workspace-ok',
      'home-ok',
      'tmp-ok',
      'usr-refused',
      'etc-refused',
    ]);
    expect(readFileSync(path.join(workspace, 'hello.txt'), 'utf8')).toBe('changed\n');
    expect(readFileSync(path.join(home, 'note'), 'utf8')).toBe('x\n');
    writeFileSync(path.join(workspace, 'hello.txt'), 'hello');
  });

  it('should show the command no other files of the host and no other process', async () => {
    const ran = await inSandbox(
      [
        `cat ${path.join(neighbour, 'secret.txt')} 2>/dev/null || echo neighbour-hidden`,
        `ls ${root} 2>/dev/null || echo root-hidden`,
        'ls /root 2>/dev/null || echo home-of-root-hidden',
        'ls /proc | grep -c "^[0-9]"',
      ].join('; '),
      { workspace, home },
      host,
    );
    const lines = ran.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['neighbour-hidden', 'root-hidden', 'home-of-root-hidden']);
    // bwrap's init, sh, and the commands of the pipeline: no process of the host.
    expect(Number(lines[3])).toBeLessThanOrEqual(5);
  });

  // Bound, /etc/localtime (a link on most hosts) would be a plain copy of its zone file: a runtime
  // asking which zone that is (ICU, in node and in the Claude Code CLI) then compares it with
  // every file under /usr/share/zoneinfo at each start, and may name another alias of the zone.
  it('should show the time zone as the host names it: /etc/localtime a link where the host has one', async () => {
    const hostLink = lstatSync('/etc/localtime').isSymbolicLink()
      ? readlinkSync('/etc/localtime')
      : 'not-a-link';
    const ran = await inSandbox(
      'readlink /etc/localtime || echo not-a-link; node -e "console.log(Intl.DateTimeFormat().resolvedOptions().timeZone)"',
      { workspace, home },
      host,
    );
    expect(ran.stdout.trim().split('\n')).toEqual([
      hostLink,
      Intl.DateTimeFormat().resolvedOptions().timeZone,
    ]);
  });

  it("should show of the host's /etc only what any user of the host may read: no /etc/ssl/private", async () => {
    const ran = await inSandbox(
      'ls -d /etc/ssl/private 2>/dev/null || echo private-absent; test -s /etc/ssl/certs/ca-certificates.crt && echo certificates',
      { workspace, home },
      host,
    );
    expect(ran.stdout.trim().split('\n')).toEqual(['private-absent', 'certificates']);
  });

  it('should keep a read-only workspace read-only', async () => {
    const ran = await inSandbox(
      'cat hello.txt; echo; echo x > hello.txt 2>/dev/null || echo refused',
      { workspace, home, workspaceReadOnly: true },
      host,
    );
    expect(ran.stdout.trim().split('\n')).toEqual(['hello', 'refused']);
  });

  it("should cover the workspace's hidden folders with an empty read-only one", async () => {
    mkdirSync(path.join(workspace, '.tool'));
    writeFileSync(path.join(workspace, '.tool', 'settings.json'), '{"hooks": "evil"}');
    const ran = await inSandbox(
      'ls -A .tool | wc -l; echo x > .tool/new 2>/dev/null || echo refused; ls -d .absent 2>/dev/null || echo absent',
      { workspace, home, hiddenWorkspacePaths: ['.tool', '.absent'] },
      host,
    );
    expect(ran.stdout.trim().split('\n')).toEqual(['0', 'refused', 'absent']);
    expect(readFileSync(path.join(workspace, '.tool', 'settings.json'), 'utf8')).toBe('{"hooks": "evil"}');
    rmSync(path.join(workspace, '.tool'), { recursive: true });
  });

  it("should give the command no network: the host's PostgreSQL and Redis are unreachable", async () => {
    const ran = await inSandbox(
      [5432, 6379]
        .map(
          (port) =>
            `node -e "require('net').connect(${port}, '127.0.0.1').on('connect', () => console.log('reached ${port}')).on('error', (e) => console.log('${port}', e.code))"`,
        )
        .join('; '),
      { workspace, home },
      host,
    );
    expect(ran.stdout.trim().split('\n').sort()).toEqual(['5432 ECONNREFUSED', '6379 ECONNREFUSED']);
  });

  describe('with a runner socket', () => {
    let server: Server;
    let socket: string;
    const seen: string[] = [];

    beforeAll(async () => {
      socket = path.join(host.dir, 'runner.sock');
      server = createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.end('from the runner');
      });
      await new Promise<void>((resolve) => server.listen(socket, resolve));
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('should reach the runner, and only the runner, from inside', async () => {
      const ran = await inSandbox(
        `node -e "fetch('${SANDBOX_RUNNER_URL}/model/v1/messages').then(r => r.text()).then(console.log)"; ` +
          `node -e "require('net').connect(5432, '127.0.0.1').on('connect', () => console.log('reached')).on('error', (e) => console.log(e.code))"`,
        { workspace, home, runnerSocket: socket },
        host,
      );
      expect(ran.stdout.trim().split('\n')).toEqual(['from the runner', 'ECONNREFUSED']);
      expect(seen).toEqual(['GET /model/v1/messages']);
    });

    // The bridge logs a line per connection to a pipe no one reads once it listens: it must go on
    // serving, and the command must get SIGPIPE as any program does (SigIgn bit 13 clear).
    it('should serve every connection of a run, and leave the command SIGPIPE as usual', async () => {
      seen.length = 0;
      const ran = await inSandbox(
        `node -e "const http = require('http'); (async () => { for (let i = 0; i < 4; i++) { await new Promise((done) => setTimeout(done, 50)); ` +
          `console.log(await new Promise((answer, fail) => http.get('${SANDBOX_RUNNER_URL}/model/' + i, { agent: false }, (r) => { let body = ''; r.on('data', (d) => (body += d)); r.on('end', () => answer(body)); }).on('error', fail))); } })()"; ` +
          `sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status`,
        { workspace, home, runnerSocket: socket },
        host,
      );
      const lines = ran.stdout.trim().split('\n');
      expect(lines.slice(0, 4)).toEqual(Array(4).fill('from the runner'));
      expect(BigInt(`0x${lines[4]}`) & (1n << 12n)).toBe(0n);
      expect(seen).toEqual(['GET /model/0', 'GET /model/1', 'GET /model/2', 'GET /model/3']);
    });
  });
});

// A spare sandbox: made before its command is known, it runs the script written in its home once
// told to (one line on stdin), and nothing when it is let go (stdin closed).
describe(spareSandboxCommand.name, () => {
  let root: string;
  let host: SandboxHost;
  let run: SandboxRun & { home: string };

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'hangar-spare-spec-'));
    host = prepareSandboxHost({ dir: path.join(root, 'host') });
    run = { workspace: path.join(root, 'workspace'), home: path.join(root, 'home') };
    for (const dir of [run.workspace, run.home]) mkdirSync(dir, { recursive: true });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function startSpare(): { input: (text: string | null) => void; ran: Promise<Ran> } {
    const command = spareSandboxCommand(run, host);
    const child = spawn(command.command, command.args, { env: command.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return {
      input: (text) => (text === null ? child.stdin.end() : child.stdin.end(text)),
      ran: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    };
  }

  it('should run the command it is told to exactly as given: arguments, environment and stdin, nothing read by the shell', async () => {
    const spare = startSpare();
    const tricky = [
      "it's",
      'two\nlines',
      '$(touch /tmp/hangar-spare-pwned)',
      '`id`',
      '; exit 3',
      '"quoted" \\ $HOME',
      'ünï',
    ];
    writeFileSync(
      path.join(run.home, SANDBOX_LAUNCH_FILE),
      launchScript({
        command: '/bin/sh',
        args: ['-c', 'printf "%s\\0" "$@"; printf "%s" "$SECRET"; echo; cat; pwd', 'sh', ...tricky],
        env: { PATH: '/usr/bin:/bin', SECRET: "a 'b' $c" },
      }),
    );
    spare.input('run\nfrom stdin\n');
    const ran = await spare.ran;
    expect(ran.code).toBe(0);
    const [args, rest] = [ran.stdout.split('\0').slice(0, tricky.length), ran.stdout.split('\0').at(-1)];
    expect(args).toEqual(tricky);
    expect(rest).toBe(`a 'b' $c\nfrom stdin\n${SANDBOX_WORKSPACE}\n`);
    expect(existsSync('/tmp/hangar-spare-pwned')).toBe(false);
  });

  it('should say it is up once its mounts are made, its workspace then movable, and its command not hold that descriptor', async () => {
    const workspace = path.join(root, 'moving');
    mkdirSync(workspace);
    const moving = { ...run, workspace };
    const command = spareSandboxCommand(moving, host);
    expect(command.readyFd).toBe(SANDBOX_READY_FD);
    const child = spawn(command.command, command.args, {
      env: command.env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const ready = child.stdio[3] as Readable;
    await new Promise((resolve) => ready.once('data', resolve));
    ready.destroy();
    // Moved as a task takes it (WorkspaceService.adopt): the sandbox holds the folder itself.
    const moved = path.join(root, 'moved');
    renameSync(workspace, moved);
    writeFileSync(path.join(moved, 'given'), 'after the move\n');
    writeFileSync(
      path.join(run.home, SANDBOX_LAUNCH_FILE),
      launchScript({
        command: '/bin/sh',
        args: ['-c', `cat given; [ -e /proc/self/fd/${SANDBOX_READY_FD} ] && echo holds it; true`],
        env: { PATH: '/usr/bin:/bin' },
      }),
    );
    child.stdin.end('run\n');
    expect(await closed).toBe(0);
    expect(stdout).toBe('after the move\n');
  });

  it('should run nothing when it is let go', async () => {
    const spare = startSpare();
    writeFileSync(
      path.join(run.home, SANDBOX_LAUNCH_FILE),
      launchScript({ command: '/bin/sh', args: ['-c', 'echo ran'], env: {} }),
    );
    spare.input(null);
    const ran = await spare.ran;
    expect(ran.code).toBe(125);
    expect(ran.stdout).toBe('');
  });

  it('should refuse an environment variable no shell could set', () => {
    expect(() => launchScript({ command: '/bin/true', args: [], env: { 'A=B; id': 'x' } })).toThrow(
      /cannot be an environment variable/,
    );
  });
});

describe(probeSandbox.name, () => {
  it('should succeed where bubblewrap can make namespaces', async () => {
    const host = prepareSandboxHost();
    await expect(probeSandbox(host)).resolves.toBeUndefined();
    rmSync(host.dir, { recursive: true, force: true });
  });

  it('should say what is wrong when bubblewrap cannot run', async () => {
    const host = prepareSandboxHost();
    const broken = { ...host, bwrapPath: '/bin/false' };
    await expect(probeSandbox(broken)).rejects.toThrow(SandboxUnavailable);
    rmSync(host.dir, { recursive: true, force: true });
  });

  it('should name the package to install when bwrap is missing', () => {
    expect(() => prepareSandboxHost({ searchPath: '/nonexistent' })).toThrow(/apt-get install bubblewrap/);
  });
});
