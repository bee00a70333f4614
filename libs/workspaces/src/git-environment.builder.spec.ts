import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ASKPASS_SCRIPT, buildGitEnvironment, httpsHost } from './git-environment.builder';
import { scrubSecrets, stderrTail, type GitContext } from './git.runner';

const context: GitContext = { binary: 'git', timeoutMs: 1000, home: '/tmp/hangar-home', tempDir: '/tmp' };

describe(buildGitEnvironment.name, () => {
  it('should inherit nothing but PATH and network settings, and pin the config that matters', () => {
    process.env.SOME_SECRET = 'do-not-pass';
    const env = buildGitEnvironment(context, { protocols: ['https'], workspace: '/srv/ws/task-1' });
    delete process.env.SOME_SECRET;

    expect(env.SOME_SECRET).toBeUndefined();
    expect(env).toMatchObject({
      HOME: '/tmp/hangar-home',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_DIR: '/srv/ws/task-1/.git',
      GIT_WORK_TREE: '/srv/ws/task-1',
      GIT_CEILING_DIRECTORIES: '/srv/ws',
    });
    const config = Array.from({ length: Number(env.GIT_CONFIG_COUNT) }, (_, index) => [
      env[`GIT_CONFIG_KEY_${index}`],
      env[`GIT_CONFIG_VALUE_${index}`],
    ]);
    expect(config).toEqual(
      expect.arrayContaining([
        ['protocol.allow', 'never'],
        ['protocol.https.allow', 'always'],
        ['core.hooksPath', '/dev/null'],
        ['credential.helper', ''],
      ]),
    );
    expect(config).not.toContainEqual(['protocol.ext.allow', 'always']);
  });

  it('should quote the SSH key path for the shell git runs GIT_SSH_COMMAND with', () => {
    const env = buildGitEnvironment(context, {
      protocols: ['ssh'],
      ssh: { keyPath: "/keys/it's mine", knownHostsPath: '/etc/hangar/known_hosts' },
    });

    expect(env.GIT_SSH_COMMAND).toBe(
      "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -i '/keys/it'\\''s mine' -o IdentitiesOnly=yes -o UserKnownHostsFile=/etc/hangar/known_hosts",
    );
  });
});

describe('askpass helper', () => {
  let dir: string;
  let script: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hangar-askpass-spec-'));
    script = path.join(dir, 'askpass.sh');
    writeFileSync(script, ASKPASS_SCRIPT);
    chmodSync(script, 0o700);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ask = (prompt: string) =>
    spawnSync(script, [prompt], {
      env: { HANGAR_GIT_HOST: 'github.com', HANGAR_GIT_USERNAME: 'x-access-token', HANGAR_GIT_TOKEN: 'tok' },
      encoding: 'utf8',
    });

  it('should answer git for the repository host only', () => {
    expect(ask("Username for 'https://github.com': ").stdout).toBe('x-access-token\n');
    expect(ask("Password for 'https://x-access-token@github.com': ").stdout).toBe('tok\n');
    const elsewhere = ask("Password for 'https://x-access-token@evil.example': ");
    expect(elsewhere.stdout).toBe('');
    expect(elsewhere.status).toBe(1);
    expect(ask("Password for 'https://x-access-token@github.com.evil.example': ").stdout).toBe('');
  });

  it('should take the host with its port from the URL', () => {
    expect(httpsHost('https://git.example.com:8443/o/r.git')).toBe('git.example.com:8443');
  });
});

describe(scrubSecrets.name, () => {
  it('should blank tokens and URL credentials out of git output', () => {
    const stderr = [
      'hint: ignore me',
      "fatal: unable to access 'https://x:tok123@host/r.git/': error tok123",
      '',
    ].join('\n');

    expect(stderrTail(stderr, ['tok123'])).toBe(
      "fatal: unable to access 'https://***@host/r.git/': error ***",
    );
  });
});
