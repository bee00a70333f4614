import { chmodSync, existsSync, mkdirSync, symlinkSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { prepareWorkspace, removeWorkspace, sweepWorkspaces, WorkspaceError } from '../src';
import { makeSandbox, writeFiles, type Sandbox } from './support/git-fixture';

const HOUR = 3_600_000;

describe(sweepWorkspaces.name, () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = makeSandbox('hangar-sweep-');
  });

  afterEach(() => sandbox.cleanup());

  function age(target: string, hours: number) {
    const when = new Date(Date.now() - hours * HOUR);
    utimesSync(target, when, when);
  }

  it('should remove old workspaces, keep protected and young ones, and never follow a link out of root', async () => {
    const root = path.join(sandbox.dir, 'workspaces');
    const outside = path.join(sandbox.dir, 'outside');
    writeFiles(outside, { 'precious.txt': 'keep me' });
    const old = await prepareWorkspace({ root, taskId: 'old-task' });
    const kept = await prepareWorkspace({ root, taskId: 'conversation-1' });
    const young = await prepareWorkspace({ root, taskId: 'young-task' });
    mkdirSync(path.join(root, 'plain-old'));
    symlinkSync(outside, path.join(root, 'link-out'));
    // A repository beside a folder that is gone (a removal cut short) is swept on its own.
    mkdirSync(path.join(root, 'orphan.git'));
    for (const dir of [old.dir, kept.dir]) {
      for (const marker of [
        `${dir}.git/index`,
        `${dir}.git/HEAD`,
        `${dir}.git/logs/HEAD`,
        `${dir}.git/refs/heads/hangar`,
        `${dir}.git`,
        dir,
      ]) {
        if (existsSync(marker)) age(marker, 48);
      }
    }
    age(path.join(root, 'plain-old'), 48);
    age(path.join(root, 'orphan.git'), 48);

    const result = await sweepWorkspaces({
      root,
      olderThanMs: 24 * HOUR,
      keep: (name) => name.startsWith('conversation-'),
    });

    expect(result.removed.sort()).toEqual(
      [old.dir, path.join(root, 'plain-old'), path.join(root, 'orphan.git')].sort(),
    );
    expect(result.failed).toEqual([]);
    // A workspace goes with its repository; the kept and young ones keep theirs.
    expect(existsSync(`${old.dir}.git`)).toBe(false);
    expect(existsSync(kept.dir) && existsSync(`${kept.dir}.git`)).toBe(true);
    expect(existsSync(young.dir) && existsSync(`${young.dir}.git`)).toBe(true);
    expect(existsSync(path.join(outside, 'precious.txt'))).toBe(true);
    expect(existsSync(path.join(root, 'link-out'))).toBe(true);
  });

  it('should find nothing to sweep when the root does not exist', async () => {
    const result = await sweepWorkspaces({
      root: path.join(sandbox.dir, 'none'),
      olderThanMs: 0,
      keep: () => false,
    });

    expect(result).toEqual({ removed: [], failed: [] });
  });
});

describe(removeWorkspace.name, () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = makeSandbox('hangar-remove-');
  });

  afterEach(() => sandbox.cleanup());

  it('should remove a workspace with read-only folders, and a link without touching its target', async () => {
    const root = path.join(sandbox.dir, 'workspaces');
    const workspace = await prepareWorkspace({ root, taskId: 'task-1' });
    writeFiles(workspace.dir, { 'locked/file.txt': 'x' });
    chmodSync(path.join(workspace.dir, 'locked'), 0o500);
    writeFiles(sandbox.dir, { 'target/keep.txt': 'x' });
    symlinkSync(path.join(sandbox.dir, 'target'), path.join(root, 'link'));

    expect(await removeWorkspace(workspace.dir, { root })).toBe(true);
    expect(await removeWorkspace(path.join(root, 'link'), { root })).toBe(true);
    expect(await removeWorkspace(workspace.dir, { root })).toBe(false);

    expect(existsSync(workspace.dir)).toBe(false);
    expect(existsSync(path.join(sandbox.dir, 'target', 'keep.txt'))).toBe(true);
  });

  it('should refuse a folder that is not directly inside the root', async () => {
    const root = path.join(sandbox.dir, 'workspaces');
    mkdirSync(root);
    writeFiles(sandbox.dir, { 'other/file.txt': 'x' });

    await expect(removeWorkspace(path.join(sandbox.dir, 'other'), { root })).rejects.toBeInstanceOf(
      WorkspaceError,
    );
    await expect(removeWorkspace('relative/path')).rejects.toMatchObject({ code: 'WORKSPACE_UNSAFE' });
    expect(existsSync(path.join(sandbox.dir, 'other', 'file.txt'))).toBe(true);
  });
});
