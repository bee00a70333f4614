import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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
