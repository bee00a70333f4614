import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The tests' own git calls: no user or system config, a fixed identity.
const TEST_GIT_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: TEST_GIT_ENV, encoding: 'utf8' }).trim();
}

// Git on a workspace as Hangar runs it: its repository beside the folder when it has one there
// (a workspace made without a repository), else the folder's own .git.
export function workspaceGit(dir: string, ...args: string[]): string {
  const beside = `${dir}.git`;
  if (!existsSync(beside)) return git(dir, ...args);
  return git(dir, `--git-dir=${beside}`, `--work-tree=${dir}`, ...args);
}

export interface Sandbox {
  dir: string;
  cleanup: () => void;
}

export function makeSandbox(prefix = 'hangar-ws-'): Sandbox {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

export interface Origin {
  // A bare repository, as a server would hold it.
  bare: string;
  first: string;
  main: string;
  feature: string;
}

// main: two commits (tag v1 on the first); feature/x: one more commit on top of main.
export function makeOrigin(sandboxDir: string): Origin {
  const source = path.join(sandboxDir, 'source');
  const bare = path.join(sandboxDir, 'origin.git');
  git(sandboxDir, 'init', '--quiet', '--initial-branch=main', source);
  writeFiles(source, {
    'README.md': '# demo\n\nline 3\n',
    '.gitignore': '*.log\n',
    'src/app.ts': 'export const a = 1;\nexport const b = 2;\n',
    'old.txt': 'one\ntwo\nthree\nfour\nfive\n',
    'logo.bin': Buffer.from([0, 1, 2, 3, 0, 255, 254, 0]),
  });
  git(source, 'add', '--all');
  git(source, 'commit', '--quiet', '-m', 'first');
  const first = git(source, 'rev-parse', 'HEAD');
  git(source, 'tag', '-a', '-m', 'release 1', 'v1');
  writeFiles(source, { 'src/app.ts': 'export const a = 1;\nexport const b = 3;\n' });
  git(source, 'commit', '--quiet', '-am', 'second');
  const main = git(source, 'rev-parse', 'HEAD');
  git(source, 'checkout', '--quiet', '-b', 'feature/x');
  writeFiles(source, { 'feature.txt': 'feature\n' });
  git(source, 'add', '--all');
  git(source, 'commit', '--quiet', '-m', 'feature');
  const feature = git(source, 'rev-parse', 'HEAD');
  git(source, 'checkout', '--quiet', 'main');
  git(sandboxDir, 'clone', '--quiet', '--bare', source, bare);
  return { bare, first, main, feature };
}
