import {
  chmodSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { collectDiff, prepareWorkspace, workspaceFingerprint } from '../src';
import { makeSandbox, type Sandbox } from './support/git-fixture';

// A workspace's fingerprint says whether anything in it changed since it was taken; the diff
// after a run that changed nothing is then taken without git (docs/performance.md).
describe('workspaceFingerprint', () => {
  let sandbox: Sandbox;
  let counter = 0;

  beforeAll(() => {
    sandbox = makeSandbox();
  });

  afterAll(() => sandbox.cleanup());

  // The kernel stamps change times from a clock that ticks every few ms: a change in the same tick
  // as the last one can keep the ctime (a workspace's fingerprint is taken hundreds of ms before
  // its agent can write). Returns once the clock has ticked past `file`'s change time.
  function afterTick(file: string) {
    const changed = statSync(file, { bigint: true }).ctimeNs;
    const probe = `${file}.tick`;
    for (;;) {
      writeFileSync(probe, '');
      const now = statSync(probe, { bigint: true }).ctimeNs;
      rmSync(probe);
      if (now > changed) return;
    }
  }

  function tree(): string {
    const dir = path.join(sandbox.dir, `tree-${(counter += 1)}`);
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'main.ts'), 'export const answer = 42;\n');
    writeFileSync(path.join(dir, 'README.md'), '# hello\n');
    return dir;
  }

  it('is the same while nothing is written, however often the files are read', async () => {
    const dir = tree();
    const before = workspaceFingerprint(dir);
    readFileSync(path.join(dir, 'src', 'main.ts'));
    expect(workspaceFingerprint(dir)).toBe(before);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with a rewrite that keeps the size and puts the modification time back', async () => {
    const dir = tree();
    const file = path.join(dir, 'src', 'main.ts');
    const { atime, mtime } = statSync(file);
    const before = workspaceFingerprint(dir);
    afterTick(file);
    writeFileSync(file, 'export const answer = 43;\n');
    utimesSync(file, atime, mtime);
    expect(Math.abs(statSync(file).mtimeMs - mtime.getTime())).toBeLessThan(1);
    expect(workspaceFingerprint(dir)).not.toBe(before);
  });

  it.each([
    ['a new file', (dir: string) => writeFileSync(path.join(dir, 'src', 'new.ts'), '')],
    ['a removed file', (dir: string) => rmSync(path.join(dir, 'README.md'))],
    ['a rename', (dir: string) => renameSync(path.join(dir, 'README.md'), path.join(dir, 'README'))],
    ['a mode change', (dir: string) => chmodSync(path.join(dir, 'README.md'), 0o755)],
    ['a new empty folder', (dir: string) => mkdirSync(path.join(dir, 'empty'))],
  ])('changes with %s', async (_change, change) => {
    const dir = tree();
    afterTick(path.join(dir, 'README.md'));
    const before = workspaceFingerprint(dir);
    change(dir);
    expect(workspaceFingerprint(dir)).not.toBe(before);
  });

  it('follows no link out of the workspace, and gives up past its limit of entries', async () => {
    const dir = tree();
    // /usr holds far more than 10 entries: walked, it would exceed the limit.
    symlinkSync('/usr', path.join(dir, 'usr'));
    expect(workspaceFingerprint(dir, { maxEntries: 10 })).not.toBeNull();
    for (let file = 0; file < 10; file += 1) writeFileSync(path.join(dir, `f${file}`), '');
    expect(workspaceFingerprint(dir, { maxEntries: 10 })).toBeNull();
  });

  it('makes the diff of an untouched workspace without running git, and of a changed one with git', async () => {
    const root = path.join(sandbox.dir, 'workspaces');
    const workspace = await prepareWorkspace({ root, taskId: 'fingerprinted' });
    const clean = workspaceFingerprint(workspace.dir);
    // Any git process would fail: there is no such binary.
    const noGit = { git: { gitBinary: path.join(sandbox.dir, 'no-such-git') } };
    const untouched = await collectDiff(workspace.dir, workspace.baseCommit, {
      ...noGit,
      cleanFingerprint: clean,
    });
    expect(untouched).toMatchObject({ unifiedDiff: '', filesChanged: [], commit: null, committed: false });

    writeFileSync(path.join(workspace.dir, 'made.txt'), 'by the agent\n');
    await expect(
      collectDiff(workspace.dir, workspace.baseCommit, { ...noGit, cleanFingerprint: clean }),
    ).rejects.toThrow();
    const changed = await collectDiff(workspace.dir, workspace.baseCommit, { cleanFingerprint: clean });
    expect(changed.filesChanged.map(({ path: file, status }) => ({ file, status }))).toEqual([
      { file: 'made.txt', status: 'added' },
    ]);
    expect(changed.commit).toMatch(/^[0-9a-f]{40}$/);
  });
});
