import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bindMounts, loadCompose } from './support/compose';
import { IMAGES, repoPath } from './support/repo';

const NGINX = '/usr/sbin/nginx';
const compose = loadCompose();
const nginx = compose.services['nginx']!;
const mounts = bindMounts(nginx);

function hostFileOf(containerPath: string): string {
  const mount = mounts.find((candidate) => candidate.target === containerPath);
  if (!mount) throw new Error(`nothing is mounted at ${containerPath}`);
  return mount.source;
}

function stripComments(config: string): string {
  return config.replace(/#.*$/gm, '');
}

function includesOf(config: string): string[] {
  return [...stripComments(config).matchAll(/^\s*include\s+([^;\s]+);/gm)].map((match) => match[1] ?? '');
}

function locationsOf(config: string): string[] {
  return [...stripComments(config).matchAll(/^\s*location\s+([^{]+?)\s*\{/gm)].map((match) => match[1] ?? '');
}

const mainConfig = readFileSync(hostFileOf('/etc/nginx/nginx.conf'), 'utf8');
const included = includesOf(mainConfig).map((target) => ({ target, file: hostFileOf(target) }));

describe('deploy/compose/nginx', () => {
  it("should serve the repository's own routes file, mounted as is", () => {
    expect(included.map((include) => include.file)).toContain(repoPath('deploy/nginx/hangar.conf'));
  });

  it('should route the same locations as deploy/nginx/hangar.conf, and define none of its own', () => {
    const routes = included.flatMap((include) => locationsOf(readFileSync(include.file, 'utf8')));
    expect(routes.sort()).toEqual(
      locationsOf(readFileSync(repoPath('deploy/nginx/hangar.conf'), 'utf8')).sort(),
    );
    expect(locationsOf(mainConfig)).toEqual([]);
    expect(routes).toEqual(expect.arrayContaining(['/', '/api/', '/webhooks/', '/socket.io/']));
  });

  it("should define every upstream hangar.conf proxies to, at the compose services' ports", () => {
    const routes = readFileSync(repoPath('deploy/nginx/hangar.conf'), 'utf8');
    const wanted = new Set([...routes.matchAll(/proxy_pass\s+http:\/\/([a-z_]+)/g)].map((match) => match[1]));
    const upstreamFile = included.find(
      (include) => include.file !== repoPath('deploy/nginx/hangar.conf'),
    )!.file;
    const upstreams = new Map<string, string[]>();
    for (const match of stripComments(readFileSync(upstreamFile, 'utf8')).matchAll(
      /upstream\s+(\w+)\s*\{([^}]*)\}/g,
    )) {
      upstreams.set(
        match[1] ?? '',
        [...(match[2] ?? '').matchAll(/server\s+([^;\s]+)/g)].map((server) => server[1] ?? ''),
      );
    }
    expect([...upstreams.keys()].sort()).toEqual([...wanted].sort());
    // Same names as the example for one machine, so hangar.conf's comment holds for both.
    const example = readFileSync(repoPath('deploy/nginx/upstreams.example.conf'), 'utf8');
    expect([...example.matchAll(/upstream\s+(\w+)/g)].map((match) => match[1]).sort()).toEqual(
      [...wanted].sort(),
    );
    for (const servers of upstreams.values()) {
      for (const server of servers) {
        const [host = '', port = ''] = server.split(':');
        const image = IMAGES.find(
          (candidate) => compose.services[host]?.build?.dockerfile === `${candidate.dir}/Dockerfile`,
        );
        expect({ server, port: image ? String(image.port) : 'no such service' }).toEqual({ server, port });
      }
    }
  });

  it('should pass nginx -t with the compose service names pointed at this machine', () => {
    expect(existsSync(NGINX)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'hangar-nginx-'));
    try {
      let config = mainConfig;
      for (const include of included) {
        // nginx -t resolves upstream host names; the compose network's do not exist here.
        const text = readFileSync(include.file, 'utf8').replace(
          /server\s+([a-z][a-z0-9-]*):(\d+)/g,
          'server 127.0.0.1:$2',
        );
        const copy = path.join(dir, path.basename(include.file));
        writeFileSync(copy, text);
        config = config.replace(`include ${include.target};`, `include ${copy};`);
      }
      config = config
        .replace(/^pid .*;$/m, `pid ${path.join(dir, 'nginx.pid')};`)
        .replace(/access_log \S+;/, `access_log ${path.join(dir, 'access.log')};`);
      const file = path.join(dir, 'nginx.conf');
      writeFileSync(file, config);
      const output = execFileSync(NGINX, ['-t', '-q', '-p', dir, '-e', 'stderr', '-c', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(output).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
