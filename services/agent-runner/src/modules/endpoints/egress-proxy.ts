import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { checkDestination } from '@hangar/egress';
import { AttemptCredentials, REFUSAL_TEXT } from './attempt-credentials.service';

// Where the proxy lets a connection go, or why not.
type Verdict = { ok: true; host: string; port: number } | { ok: false; status: 403 | 407; reason: string };

// The way out of a sandbox: an HTTP proxy (CONNECT for HTTPS, absolute URIs for plain HTTP)
// that an agent's tools reach with its attempt's credential (HTTPS_PROXY in its environment).
// It lets a connection through to the project's git hosts, and to public addresses when the
// profile allows the internet, checked on the addresses the name resolves to and connected to
// the address that was checked: never to the runner's own network (PostgreSQL, Redis, the
// services, cloud metadata). Hand-written on node:http/net because the decision needs the
// attempt's credential and the resolved address at connect time, which generic proxies do not
// offer as a hook.
@Injectable()
export class EgressProxy {
  private readonly logger = new Logger(EgressProxy.name);

  constructor(private readonly credentials: AttemptCredentials) {}

  async tunnel(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const [host, portText] = splitHostPort(req.url ?? '');
    const verdict = await this.decide(req, host, Number(portText));
    if (!verdict.ok) {
      client.end(
        `HTTP/1.1 ${verdict.status} ${verdict.status === 407 ? 'Proxy Authentication Required' : 'Forbidden'}\r\n` +
          (verdict.status === 407 ? 'Proxy-Authenticate: Basic realm="hangar"\r\n' : '') +
          `Content-Type: text/plain\r\nConnection: close\r\n\r\n${verdict.reason}\n`,
      );
      return;
    }
    const upstream = connect(verdict.port, verdict.host);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', (error) => {
      if (!client.destroyed && upstream.connecting)
        client.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n${error.message}\n`);
      close();
    });
    client.on('error', close);
    client.on('close', () => upstream.destroy());
  }

  async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('hangar egress proxy: not an absolute URL\n');
      return;
    }
    if (target.protocol !== 'http:') {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('hangar egress proxy: use CONNECT for HTTPS\n');
      return;
    }
    const verdict = await this.decide(req, target.hostname, Number(target.port || 80));
    if (!verdict.ok) {
      res
        .writeHead(verdict.status, {
          'content-type': 'text/plain',
          ...(verdict.status === 407 ? { 'proxy-authenticate': 'Basic realm="hangar"' } : {}),
        })
        .end(`${verdict.reason}\n`);
      return;
    }
    const { 'proxy-authorization': _credential, 'proxy-connection': _hop, ...headers } = req.headers;
    const call = httpRequest(
      {
        host: verdict.host,
        port: verdict.port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: { ...headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    call.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`${error.message}\n`);
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) call.destroy();
    });
    req.pipe(call);
  }

  private async decide(req: IncomingMessage, host: string, port: number): Promise<Verdict> {
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
      return { ok: false, status: 403, reason: 'hangar egress proxy: not a host and port' };
    const token = proxyCredential(req.headers['proxy-authorization']);
    const access = token ? await this.credentials.check(token) : undefined;
    if (!access?.ok) {
      const why = access ? REFUSAL_TEXT[access.refusal] : 'no credential was sent';
      return { ok: false, status: 407, reason: `hangar egress proxy: ${why}` };
    }
    const rules = await this.credentials.egressRules(access.grant);
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    const endpoint = { host: bare, port };
    const gitHost = rules.gitHosts.allowed(endpoint);
    // A git host the operator allows too: reached whatever it resolves to (a self-hosted GitLab).
    if (gitHost && rules.installationGitHosts.allowed(endpoint)) return { ok: true, host: bare, port };
    if (!gitHost && !rules.internet) {
      this.logger.log(`task ${access.grant.taskId}: refused ${bare}:${port} (not a git host of the project)`);
      return {
        ok: false,
        status: 403,
        reason: `hangar egress proxy: ${bare}:${port} is not one of the project's git hosts, and the task's profile does not allow the internet (internetAccess)`,
      };
    }
    // A project's own git host, or the internet: public addresses only, connected to as checked.
    const destination = await checkDestination(bare, port);
    if (!destination.ok) {
      this.logger.log(`task ${access.grant.taskId}: refused ${bare}:${port}: ${destination.reason}`);
      return { ok: false, status: 403, reason: `hangar egress proxy: ${destination.reason}` };
    }
    return { ok: true, host: destination.address, port };
  }
}

function splitHostPort(authority: string): [string, string] {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(authority);
  return match ? [match[1]!, match[2]!] : ['', ''];
}

// Basic credentials; the password is the attempt's token (the user name is not checked).
function proxyCredential(header: string | undefined): string | undefined {
  const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}
