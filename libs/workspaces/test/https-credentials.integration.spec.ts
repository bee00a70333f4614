import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import {
  collectDiff,
  parseRepositorySpec,
  prepareWorkspace,
  pushBranch,
  WorkspaceError,
  type Workspace,
} from '../src';
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

  async function pushTo(url: string, timeoutMs = 15_000): Promise<WorkspaceError> {
    writeFileSync(log, '');
    try {
      await pushBranch(workspace.dir, {
        branch: workspace.branch,
        repository: { kind: 'remote', url },
        credentials: { httpsToken: TOKEN },
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

  describe('against an HTTPS server that asks for credentials', () => {
    let server: Server;
    let port: number;
    const authorizations: string[] = [];

    beforeAll(async () => {
      const key = path.join(sandbox.dir, 'key.pem');
      const cert = path.join(sandbox.dir, 'cert.pem');
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
      ], { stdio: 'ignore' }); // prettier-ignore
      // Passed through to git like an operator's own CA bundle would be.
      process.env.GIT_SSL_CAINFO = cert;
      server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (request, response) => {
        const authorization = request.headers.authorization;
        if (authorization === undefined) {
          response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="hangar-test"' }).end();
          return;
        }
        authorizations.push(authorization);
        response.writeHead(403).end(`denied for ${authorization}`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      delete process.env.GIT_SSL_CAINFO;
      await new Promise((resolve) => server.close(resolve));
    });

    it('should answer the credential prompt with the token and still keep it out of the error', async () => {
      const error = await pushTo(`https://127.0.0.1:${port}/owner/repo.git`);

      const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
      expect(authorizations).toContain(`Basic ${basic}`);
      expect(error.code).toBe('PUSH_FAILED');
      expect(error.message).toMatch(/403/);
      expect(error.message).not.toContain(TOKEN);
      expect(error.message).not.toContain(basic);
      expect(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('ARGV') && line.includes(TOKEN)),
      ).toEqual([]);
    });
  });
});
