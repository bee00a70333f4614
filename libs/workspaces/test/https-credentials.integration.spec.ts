import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import {
  collectDiff,
  gitHostPolicy,
  parseRepositorySpec,
  prepareWorkspace,
  pushBranch,
  WorkspaceError,
  type GitHostEntry,
  type Workspace,
} from '../src';
import {
  asksForCredentials,
  makeTestCertificate,
  redirectsTo,
  startFakeGitHost,
  type FakeGitHost,
  type TestCertificate,
} from './support/fake-git-host';
import { makeOrigin, makeSandbox, writeFiles, type Sandbox } from './support/git-fixture';

const TOKEN = 'ghp_S3cretT0ken+/=value';

describe('pushing over HTTPS with a token', () => {
  let sandbox: Sandbox;
  let workspace: Workspace;
  let wrapper: string;
  let log: string;
  let askpassDir: string;

  beforeAll(async () => {
    sandbox = makeSandbox();
    const origin = makeOrigin(sandbox.dir);
    const repository = parseRepositorySpec({ repository: origin.bare }, { allowedLocalRoots: [sandbox.dir] });
    workspace = await prepareWorkspace({ root: path.join(sandbox.dir, 'ws'), taskId: 'task-1', repository });
    writeFiles(workspace.dir, { 'change.txt': 'x\n' });
    await collectDiff(workspace.dir, workspace.baseCommit);
    // Stands in for git and records every invocation: its arguments and its environment.
    log = path.join(sandbox.dir, 'git-calls.log');
    wrapper = path.join(sandbox.dir, 'git-wrapper.sh');
    writeFileSync(
      wrapper,
      `#!/bin/sh\n{ printf 'ARGV'; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\\n'; env | sed 's/^/ENV /'; } >> '${log}'\nexec git "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    askpassDir = path.join(sandbox.dir, 'tmp');
    mkdirSync(askpassDir);
  });

  afterAll(() => sandbox.cleanup());

  // The project's git hosts: the URL's own host with TOKEN, unless told otherwise.
  async function pushTo(
    url: string,
    timeoutMs = 15_000,
    hosts: GitHostEntry[] = [{ host: new URL(url).host, credential: { token: TOKEN } }],
  ): Promise<WorkspaceError> {
    writeFileSync(log, '');
    try {
      await pushBranch(workspace.dir, {
        branch: workspace.branch,
        repository: { kind: 'remote', url },
        hosts: gitHostPolicy(hosts, { allowedHosts: [] }),
        git: { gitBinary: wrapper, tempDir: askpassDir, timeoutMs },
      });
    } catch (error) {
      if (error instanceof WorkspaceError) return error;
      throw error;
    }
    throw new Error('the push should have failed');
  }

  function invocations(): { argv: string; env: string[] }[] {
    return readFileSync(log, 'utf8')
      .split(/^ARGV/m)
      .filter((chunk) => chunk.trim().length > 0)
      .map((chunk) => {
        const [argv = '', ...rest] = chunk.split('\n');
        return { argv, env: rest.filter((line) => line.startsWith('ENV ')).map((line) => line.slice(4)) };
      });
  }

  it('should keep the token out of argv and out of the error when the remote is unreachable', async () => {
    const error = await pushTo('https://127.0.0.1:1/owner/repo.git');

    expect(error.code).toBe('PUSH_FAILED');
    expect(error.message).toMatch(/^could not push hangar\/task-1: .*127\.0\.0\.1/);
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    const push = invocations().find((call) => call.argv.startsWith(' [push]'));
    expect(push?.argv).toBe(
      ' [push] [--quiet] [--no-verify] [--] [https://127.0.0.1:1/owner/repo.git] [refs/heads/hangar/task-1:refs/heads/hangar/task-1]',
    );
    expect(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('ARGV') && line.includes(TOKEN)),
    ).toEqual([]);
    expect(push?.env).toContain(`HANGAR_GIT_TOKEN=${TOKEN}`);
    expect(push?.env).toContain('GIT_TERMINAL_PROMPT=0');
    expect(push?.env).toContain('GIT_CONFIG_NOSYSTEM=1');
    expect(push?.env.some((line) => line.startsWith('GIT_ASKPASS='))).toBe(true);
    // The helper script is gone once the push is over.
    expect(readdirSync(askpassDir)).toEqual([]);
  });

  it('should stop a push that hangs after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;

    const error = await pushTo(`https://127.0.0.1:${port}/owner/repo.git`, 800);

    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
    expect(error).toMatchObject({ code: 'PUSH_FAILED', details: { timedOut: true } });
    expect(error.message).toBe('could not push hangar/task-1: timed out');
    expect(readdirSync(askpassDir)).toEqual([]);
  });

  describe('against HTTPS git hosts that ask for credentials', () => {
    let tls: TestCertificate;
    // The project allows a (with TOKEN) and b (without a credential); c is allowed, with a
    // token of its own, but only as a repository's host.
    let a: FakeGitHost;
    let b: FakeGitHost;
    let c: FakeGitHost;
    const C_TOKEN = 'c-token-never-sent-on-a-redirect';

    beforeAll(async () => {
      tls = makeTestCertificate(sandbox.dir);
      // Passed through to git like an operator's own CA bundle would be.
      process.env.GIT_SSL_CAINFO = tls.certFile;
      [a, b, c] = await Promise.all([
        startFakeGitHost(tls, asksForCredentials),
        startFakeGitHost(tls, asksForCredentials),
        startFakeGitHost(tls, asksForCredentials),
      ]);
    });

    afterAll(async () => {
      delete process.env.GIT_SSL_CAINFO;
      await Promise.all([a, b, c].map((host) => host.close()));
    });

    beforeEach(() => [a, b, c].forEach((host) => (host.requests.length = 0)));

    const hosts = (): GitHostEntry[] => [
      { host: a.host, credential: { token: TOKEN } },
      { host: b.host, credential: null },
      { host: `localhost:${c.port}`, credential: { token: C_TOKEN } },
    ];
    const basic = (username: string, token: string) =>
      `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`;

    it('should push to a host with its own token and keep the token out of the error', async () => {
      const error = await pushTo(`https://${a.host}/owner/repo.git`, 15_000, hosts());

      expect(a.authorizations()).toEqual([basic('x-access-token', TOKEN)]);
      expect(error.code).toBe('PUSH_FAILED');
      expect(error.message).toMatch(/403/);
      expect(error.message).not.toContain(TOKEN);
      expect(error.message).not.toContain(basic('x-access-token', TOKEN));
      expect(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('ARGV') && line.includes(TOKEN)),
      ).toEqual([]);
      expect([...b.requests, ...c.requests]).toEqual([]);
    });

    it('should send the user name the credential names', async () => {
      await pushTo(`https://${a.host}/owner/repo.git`, 15_000, [
        { host: a.host, credential: { token: TOKEN, username: 'oauth2' } },
      ]);

      expect(a.authorizations()).toEqual([basic('oauth2', TOKEN)]);
    });

    it('should offer nothing to an allowed host without a credential, clone or push', async () => {
      const repository = parseRepositorySpec(
        { repository: `https://${b.host}/owner/repo.git` },
        { allowedLocalRoots: [], hosts: gitHostPolicy(hosts(), { allowedHosts: [] }) },
      );
      const clone = prepareWorkspace({
        root: path.join(sandbox.dir, 'clones'),
        taskId: 'from-b',
        repository,
        hosts: gitHostPolicy(hosts(), { allowedHosts: [] }),
        git: { tempDir: askpassDir, timeoutMs: 15_000 },
      });
      await expect(clone).rejects.toMatchObject({ code: 'REPOSITORY_UNAVAILABLE', field: 'repository' });
      const push = await pushTo(`https://${b.host}/owner/repo.git`, 15_000, hosts());

      expect(push.code).toBe('PUSH_FAILED');
      expect(b.requests.length).toBeGreaterThanOrEqual(2);
      expect(b.authorizations()).toEqual([]);
      expect([...a.requests, ...c.requests]).toEqual([]);
    });

    it('should refuse a host the project does not allow before git runs', async () => {
      const error = await pushTo(`https://${b.host}/owner/repo.git`, 15_000, [
        { host: a.host, credential: { token: TOKEN } },
      ]);

      expect(error).toMatchObject({ code: 'INVALID_REPOSITORY', field: 'repository' });
      expect(invocations().filter((call) => call.argv.startsWith(' [push]'))).toEqual([]);
      expect(b.requests).toEqual([]);
    });

    it.each([
      ['before', false],
      ['after', true],
    ])(
      'should not carry the token along a redirect to another host made %s it was given',
      async (_when, afterCredentials) => {
        const from = await startFakeGitHost(
          tls,
          redirectsTo(`https://localhost:${c.port}`, { afterCredentials }),
        );
        try {
          const error = await pushTo(`https://${from.host}/owner/repo.git`, 15_000, [
            ...hosts(),
            { host: from.host, credential: { token: TOKEN } },
          ]);

          expect(error.code).toBe('PUSH_FAILED');
          // git followed the redirect: the other host was asked, and got no credential of any kind.
          expect(c.requests.length).toBeGreaterThanOrEqual(1);
          expect(c.authorizations()).toEqual([]);
          expect(from.authorizations()).toEqual(afterCredentials ? [basic('x-access-token', TOKEN)] : []);
        } finally {
          await from.close();
        }
      },
    );
  });
});
