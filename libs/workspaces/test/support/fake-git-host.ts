import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface TestCertificate {
  key: Buffer;
  cert: Buffer;
  // For GIT_SSL_CAINFO: the self-signed certificate is its own CA.
  certFile: string;
}

// Valid for 127.0.0.1 and localhost: two host names for servers of this machine.
export function makeTestCertificate(dir: string): TestCertificate {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' }); // prettier-ignore
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}

export interface RecordedRequest {
  url: string;
  authorization: string | undefined;
}

export interface FakeGitHost {
  // host:port, as a git host entry names it.
  host: string;
  port: number;
  requests: RecordedRequest[];
  // Authorization headers it was sent.
  authorizations(): string[];
  close(): Promise<void>;
}

export type Respond = (request: IncomingMessage, response: ServerResponse) => void;

// A fake git host: an HTTPS server that records what it is sent and answers as `respond` says.
export async function startFakeGitHost(tls: TestCertificate, respond: Respond): Promise<FakeGitHost> {
  const requests: RecordedRequest[] = [];
  const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    requests.push({ url: request.url ?? '', authorization: request.headers.authorization });
    request.resume();
    respond(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    port,
    requests,
    authorizations: () => requests.flatMap((entry) => (entry.authorization ? [entry.authorization] : [])),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Asks for credentials (HTTP basic), then refuses whatever it is given.
export const asksForCredentials: Respond = (request, response) => {
  if (request.headers.authorization === undefined) {
    response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake-git-host"' }).end();
  } else {
    response.writeHead(403).end('denied');
  }
};

// Sends every request to the same path on `base` (with `afterCredentials`: once it got some).
export const redirectsTo =
  (base: string, options: { afterCredentials?: boolean } = {}): Respond =>
  (request, response) => {
    if (options.afterCredentials && request.headers.authorization === undefined) {
      asksForCredentials(request, response);
      return;
    }
    response.writeHead(302, { Location: `${base}${request.url ?? '/'}` }).end();
  };
