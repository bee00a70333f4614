import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './service-stack';

export const NGINX = '/usr/sbin/nginx';

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

// The real NGINX (Debian's package) on a loopback port, serving deploy/nginx/hangar.conf as it
// is but for its listen address, in front of the given upstream ports.
export async function startNginx(options: {
  dir: string;
  port: number;
  gateway: number;
  pools: number[];
  dashboard?: number;
}): Promise<Nginx> {
  if (!existsSync(NGINX)) {
    throw new Error(
      `${NGINX} is missing: install Debian's nginx (./scripts/test installs it when run as root)`,
    );
  }
  mkdirSync(options.dir, { recursive: true });
  const routes = readFileSync(path.join(REPO_ROOT, 'deploy/nginx/hangar.conf'), 'utf8').replace(
    'listen 80;',
    `listen 127.0.0.1:${options.port};`,
  );
  const temp = (name: string) => `${name}_temp_path ${path.join(options.dir, name)};`;
  const config = `
daemon off;
user root;
worker_processes 1;
pid ${path.join(options.dir, 'nginx.pid')};
error_log ${path.join(options.dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  upstream hangar_gateway { server 127.0.0.1:${options.gateway}; keepalive 8; }
  upstream hangar_websocket_pool {
    least_conn;
    ${options.pools.map((port) => `server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`).join('\n    ')}
  }
  upstream hangar_dashboard { server 127.0.0.1:${options.dashboard ?? 9}; }
${routes}
}
`;
  const file = path.join(options.dir, 'nginx.conf');
  writeFileSync(file, config);
  const child: ChildProcess = spawn(NGINX, ['-c', file, '-p', options.dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    if (await listening(options.port)) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${options.port}: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${options.port}`,
    stop: async () => {
      // SIGTERM: a fast stop (SIGQUIT would wait for every open WebSocket to end).
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
