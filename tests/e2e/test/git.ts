import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  }).trim();
}

// A bare repository under `root` whose main branch holds README.md ("Hello\n") and a tag v1.
export function bareRepository(root: string, name = 'project'): string {
  mkdirSync(root, { recursive: true });
  const bare = path.join(root, `${name}.git`);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  const work = mkdtempSync(path.join(root, 'seed-'));
  git(work, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(path.join(work, 'README.md'), 'Hello\n');
  git(work, 'add', 'README.md');
  git(work, 'commit', '--quiet', '-m', 'first');
  git(work, 'tag', 'v1');
  git(work, 'push', '--quiet', bare, 'main', 'v1');
  return bare;
}

export interface TestCertificate {
  key: Buffer;
  cert: Buffer;
  // For GIT_SSL_CAINFO: the self-signed certificate is its own CA.
  certFile: string;
}

// For 127.0.0.1 (and localhost), the name fake git hosts are reached by.
export function testCertificate(dir: string): TestCertificate {
  mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' }); // prettier-ignore
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}

export interface FakeGitHost {
  // host:port, as a project's git host entry names it.
  host: string;
  // The repositories it serves (bare, <name>.git), for bareRepository.
  root: string;
  url(name?: string): string;
  // The Authorization header of every request it got (undefined: none).
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

// A fake git host speaking git's smart HTTP over TLS (git http-backend behind a Node server),
// pushes included. With `credential`, every request without exactly that basic auth gets
// 401 WWW-Authenticate: Basic; without, anyone may clone and push.
export async function startFakeGitHost(
  root: string,
  tls: TestCertificate,
  credential?: { username: string; token: string },
): Promise<FakeGitHost> {
  mkdirSync(root, { recursive: true });
  const expected = credential
    ? `Basic ${Buffer.from(`${credential.username}:${credential.token}`).toString('base64')}`
    : undefined;
  const authorizations: (string | undefined)[] = [];
  const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    authorizations.push(request.headers.authorization);
    if (expected !== undefined && request.headers.authorization !== expected) {
      request.resume();
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake-git-host"' }).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'https://fake');
    const backend = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        // Any user that got in may push (http-backend serves receive-pack to authenticated users).
        REMOTE_USER: credential?.username ?? 'anonymous',
        REMOTE_ADDR: '127.0.0.1',
        REQUEST_METHOD: request.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: request.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(request.headers['git-protocol'] ?? ''),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    request.pipe(backend.stdin);
    const output: Buffer[] = [];
    backend.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    backend.on('close', () => {
      // A CGI answer: headers (Status: among them), a blank line, the body.
      const all = Buffer.concat(output);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        response.writeHead(500).end('git http-backend answered nothing');
        return;
      }
      const headers = all.subarray(0, end).toString('latin1').split('\r\n');
      let status = 200;
      const fields: Record<string, string> = {};
      for (const line of headers) {
        const [name = '', ...value] = line.split(': ');
        if (name.toLowerCase() === 'status') status = Number.parseInt(value.join(': '), 10);
        else if (name) fields[name] = value.join(': ');
      }
      response.writeHead(status, fields).end(all.subarray(end + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    root,
    url: (name = 'project') => `https://${host}/${name}.git`,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
