import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  collectDiff,
  moveRepositoryInside,
  moveWorkspace,
  parseRepositorySpec,
  prepareWorkspace,
  pushBranch,
  WorkspaceError,
  type RepositorySpec,
} from '../src';
import {
  git,
  makeOrigin,
  makeSandbox,
  workspaceGit,
  writeFiles,
  type Origin,
  type Sandbox,
} from './support/git-fixture';

describe('workspace lifecycle (real git)', () => {
  let sandbox: Sandbox;
  let origin: Origin;
  let root: string;

  beforeAll(() => {
    sandbox = makeSandbox();
    origin = makeOrigin(sandbox.dir);
    root = path.join(sandbox.dir, 'workspaces');
  });

  afterAll(() => sandbox.cleanup());

  const spec = (ref?: string): RepositorySpec =>
    parseRepositorySpec(
      { repository: origin.bare, ...(ref !== undefined ? { ref } : {}) },
      { allowedLocalRoots: [sandbox.dir] },
    );

  async function failure(promise: Promise<unknown>): Promise<WorkspaceError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof WorkspaceError) return error;
      throw error;
    }
    throw new Error('expected a WorkspaceError');
  }

  it("should hand a workspace prepared for one id to another: its folder, branch and base, and the diff a task's own would give", async () => {
    const prepared = await prepareWorkspace({ root: path.join(root, '.warm'), taskId: 'warm-1' });
    const moved = await moveWorkspace(prepared, { root, taskId: 'task-moved' });
    expect(moved).toEqual({
      dir: path.join(root, 'task-moved'),
      branch: 'hangar/task-moved',
      baseCommit: prepared.baseCommit,
      reused: false,
    });
    // The folder and the repository beside it, both.
    expect(existsSync(prepared.dir) || existsSync(`${prepared.dir}.git`)).toBe(false);
    expect(workspaceGit(moved.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/hangar/task-moved');
    // Renamed, not copied: the waiting id's branch is gone.
    expect(workspaceGit(moved.dir, 'branch', '--list', '--format=%(refname)')).toBe(
      'refs/heads/hangar/task-moved',
    );
    writeFiles(moved.dir, { 'a.txt': 'a\n' });
    const diff = await collectDiff(moved.dir, moved.baseCommit);
    expect(diff.filesChanged.map((file) => file.path)).toEqual(['a.txt']);
    expect(workspaceGit(moved.dir, 'log', '-1', '--format=%s')).toBe('hangar: task task-moved');
    // Never over another workspace.
    const other = await prepareWorkspace({ root: path.join(root, '.warm'), taskId: 'warm-2' });
    expect((await failure(moveWorkspace(other, { root, taskId: 'task-moved' }))).code).toBe(
      'WORKSPACE_EXISTS',
    );
    expect(existsSync(other.dir)).toBe(true);
  });

  it('should rename the branch with git when the refs are no longer as Hangar wrote them', async () => {
    const prepared = await prepareWorkspace({ root: path.join(root, '.warm'), taskId: 'warm-3' });
    workspaceGit(prepared.dir, 'update-ref', 'refs/heads/other', 'HEAD');
    const moved = await moveWorkspace(prepared, { root, taskId: 'task-moved-3' });
    expect(workspaceGit(moved.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/hangar/task-moved-3');
    expect(workspaceGit(moved.dir, 'branch', '--list', '--format=%(refname)').split('\n').sort()).toEqual([
      'refs/heads/hangar/task-moved-3',
      'refs/heads/other',
    ]);
    expect(workspaceGit(moved.dir, 'rev-parse', 'HEAD')).toBe(prepared.baseCommit);
  });

  it('should clone shallow on hangar/<id>, collect exactly what changed and push it', async () => {
    const repository = spec();
    const workspace = await prepareWorkspace({ root, taskId: 'task-1', repository });

    expect(workspace).toEqual({
      dir: path.join(root, 'task-1'),
      branch: 'hangar/task-1',
      baseCommit: origin.main,
      reused: false,
    });
    expect(git(workspace.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/hangar/task-1');
    expect(git(workspace.dir, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(git(workspace.dir, 'config', 'user.name')).toBe('Hangar');
    expect(git(workspace.dir, 'config', 'user.email')).toBe('hangar@localhost');

    writeFiles(workspace.dir, {
      'README.md': '# demo\n\nline three\nline 4\n',
      'notes.txt': 'a\nb\n',
      'debug.log': 'ignored\n',
    });
    const diff = await collectDiff(workspace.dir, workspace.baseCommit);

    expect(diff.filesChanged).toEqual([
      { path: 'README.md', status: 'modified', additions: 2, deletions: 1, binary: false },
      { path: 'notes.txt', status: 'added', additions: 2, deletions: 0, binary: false },
    ]);
    expect(diff).toMatchObject({ linesAdded: 4, linesRemoved: 1, truncated: false, committed: true });
    expect(diff.unifiedDiff).toContain('+++ b/notes.txt');
    expect(diff.unifiedDiff).toContain('-line 3');
    expect(diff.commit).toBe(git(workspace.dir, 'rev-parse', 'refs/heads/hangar/task-1'));
    expect(git(workspace.dir, 'log', '-1', '--format=%s|%an <%ae>|%P')).toBe(
      `hangar: task task-1|Hangar <hangar@localhost>|${origin.main}`,
    );

    const pushed = await pushBranch(workspace.dir, { branch: workspace.branch, repository });

    expect(pushed).toEqual({ branch: 'hangar/task-1', commit: diff.commit, url: origin.bare });
    expect(git(origin.bare, 'rev-parse', 'refs/heads/hangar/task-1')).toBe(diff.commit);
  });

  it('should report renames, deletions and binary files', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-2', repository: spec() });
    const old = readFileSync(path.join(workspace.dir, 'old.txt'));
    rmSync(path.join(workspace.dir, 'old.txt'));
    rmSync(path.join(workspace.dir, 'src/app.ts'));
    writeFiles(workspace.dir, {
      'renamed.txt': old,
      'logo.bin': Buffer.from([0, 9, 9, 9, 0, 1]),
    });

    const diff = await collectDiff(workspace.dir, workspace.baseCommit, { message: 'custom message' });

    expect(diff.filesChanged).toEqual([
      { path: 'logo.bin', status: 'modified', additions: 0, deletions: 0, binary: true },
      {
        path: 'renamed.txt',
        previousPath: 'old.txt',
        status: 'renamed',
        additions: 0,
        deletions: 0,
        binary: false,
      },
      { path: 'src/app.ts', status: 'deleted', additions: 0, deletions: 2, binary: false },
    ]);
    expect(diff.unifiedDiff).toContain('Binary files a/logo.bin and b/logo.bin differ');
    expect(git(workspace.dir, 'log', '-1', '--format=%s')).toBe('custom message');
  });

  it('should return an empty diff and make no commit when nothing changed', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-3', repository: spec() });
    writeFiles(workspace.dir, { 'only.log': 'ignored by .gitignore\n' });

    const diff = await collectDiff(workspace.dir, workspace.baseCommit);

    expect(diff).toEqual({
      unifiedDiff: '',
      truncated: false,
      filesChanged: [],
      linesAdded: 0,
      linesRemoved: 0,
      commit: null,
      committed: false,
    });
    expect(git(workspace.dir, 'rev-parse', 'HEAD')).toBe(workspace.baseCommit);
  });

  it('should cut the unified diff at maxDiffBytes, at a line end, and say so', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-4', repository: spec() });
    writeFiles(workspace.dir, {
      'big.txt': Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n',
    });

    const diff = await collectDiff(workspace.dir, workspace.baseCommit, { maxDiffBytes: 1000 });

    expect(diff.truncated).toBe(true);
    expect(Buffer.byteLength(diff.unifiedDiff)).toBeLessThanOrEqual(1000);
    expect(diff.unifiedDiff.endsWith('\n')).toBe(true);
    expect(diff.linesAdded).toBe(2000);
  });

  it('should clone a tag and a branch', async () => {
    const tagged = await prepareWorkspace({ root, taskId: 'task-tag', repository: spec('v1') });
    const branched = await prepareWorkspace({ root, taskId: 'task-branch', repository: spec('feature/x') });

    expect(tagged.baseCommit).toBe(origin.first);
    expect(git(tagged.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/hangar/task-tag');
    expect(branched.baseCommit).toBe(origin.feature);
    expect(existsSync(path.join(branched.dir, 'feature.txt'))).toBe(true);
  });

  it('should accept a full ref name and start an empty remote with one empty commit', async () => {
    const empty = path.join(sandbox.dir, 'empty.git');
    git(sandbox.dir, 'init', '--quiet', '--bare', empty);
    const emptySpec = parseRepositorySpec({ repository: empty }, { allowedLocalRoots: [sandbox.dir] });

    const full = await prepareWorkspace({
      root,
      taskId: 'task-full-ref',
      repository: spec('refs/heads/feature/x'),
    });
    const fresh = await prepareWorkspace({ root, taskId: 'task-empty', repository: emptySpec });
    writeFiles(fresh.dir, { 'first.txt': 'first\n' });
    const diff = await collectDiff(fresh.dir, fresh.baseCommit);
    await pushBranch(fresh.dir, { branch: fresh.branch, repository: emptySpec });

    expect(full.baseCommit).toBe(origin.feature);
    expect(git(fresh.dir, 'log', '--format=%s', fresh.baseCommit)).toBe('hangar: empty workspace');
    expect(git(empty, 'rev-parse', 'refs/heads/hangar/task-empty')).toBe(diff.commit);
  });

  it('should check out a commit given by full or abbreviated id', async () => {
    const full = await prepareWorkspace({ root, taskId: 'task-sha', repository: spec(origin.first) });
    const short = await prepareWorkspace({
      root,
      taskId: 'task-short-sha',
      repository: spec(origin.first.slice(0, 8)),
    });

    expect(full.baseCommit).toBe(origin.first);
    expect(git(full.dir, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(git(full.dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/hangar/task-sha');
    expect(short.baseCommit).toBe(origin.first);
  });

  it('should fail with REF_NOT_FOUND for a ref the repository does not have, leaving no folder', async () => {
    const missing = await failure(
      prepareWorkspace({ root, taskId: 'task-5', repository: spec('no-such-branch') }),
    );
    const missingSha = await failure(
      prepareWorkspace({
        root,
        taskId: 'task-6',
        repository: spec('0123456789abcdef0123456789abcdef01234567'),
      }),
    );

    expect(missing).toMatchObject({ code: 'REF_NOT_FOUND', field: 'ref' });
    expect(missing.message).toBe('ref "no-such-branch" is not a branch, tag or commit of the repository');
    expect(missingSha).toMatchObject({ code: 'REF_NOT_FOUND', field: 'ref' });
    expect(existsSync(path.join(root, 'task-5'))).toBe(false);
    expect(existsSync(path.join(root, 'task-6'))).toBe(false);
  });

  it('should fail with REPOSITORY_UNAVAILABLE when the repository does not exist', async () => {
    const repository = parseRepositorySpec(
      { repository: path.join(sandbox.dir, 'missing.git') },
      { allowedLocalRoots: [sandbox.dir] },
    );

    const error = await failure(prepareWorkspace({ root, taskId: 'task-7', repository }));

    expect(error).toMatchObject({ code: 'REPOSITORY_UNAVAILABLE', field: 'repository' });
    expect(error.message).toMatch(/^could not clone the repository: .*does not exist/);
  });

  it('should start an empty folder, its repository (one empty commit) beside it, when no repository is given', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-plain' });
    // What the agent sees: an empty folder, no repository in it or above it.
    expect(readdirSync(workspace.dir)).toEqual([]);
    expect(() => git(workspace.dir, 'rev-parse', '--git-dir')).toThrow(/not a git repository/);
    writeFiles(workspace.dir, { 'hello.txt': 'hi\n' });

    const diff = await collectDiff(workspace.dir, workspace.baseCommit);

    expect(workspaceGit(workspace.dir, 'log', '--format=%s', workspace.baseCommit)).toBe(
      'hangar: empty workspace',
    );
    expect(diff.filesChanged).toEqual([
      { path: 'hello.txt', status: 'added', additions: 1, deletions: 0, binary: false },
    ]);
    expect(readdirSync(workspace.dir)).toEqual(['hello.txt']);
  });

  it('should keep its diff its own when the agent makes a repository of its own in the folder', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-agent-git' });
    writeFiles(workspace.dir, { 'app/main.txt': 'main\n' });
    git(workspace.dir, 'init', '--quiet', '--initial-branch=agent');
    git(workspace.dir, 'add', '-A');
    git(workspace.dir, 'commit', '--quiet', '-m', "the agent's own");
    // What it may put in its .git to run things as whoever runs git, ignored: not Hangar's repository.
    git(workspace.dir, 'config', 'core.fsmonitor', `touch ${path.join(sandbox.dir, 'fsmonitor-ran')}`);

    const diff = await collectDiff(workspace.dir, workspace.baseCommit, { message: 'hangar: task x' });

    expect(diff.filesChanged.map((file) => file.path)).toEqual(['app/main.txt']);
    expect(existsSync(path.join(sandbox.dir, 'fsmonitor-ran'))).toBe(false);
    expect(git(workspace.dir, 'log', '--format=%s')).toBe("the agent's own");
    // A later step sharing the folder keeps reading the agent's repository, Hangar's stays beside it.
    await moveRepositoryInside(workspace.dir);
    expect(existsSync(`${workspace.dir}.git`)).toBe(true);
    expect(workspaceGit(workspace.dir, 'log', '-1', '--format=%s')).toBe('hangar: task x');
  });

  // Git on a repository beside the folder, without a sandbox (RUNNER_SANDBOX=off), over what the
  // agent wrote: none of the ways a repository's configuration runs programs may come from the
  // agent's files.
  it("should run nothing the agent's files configure when it takes their diff", async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-agent-programs' });
    const ran = (name: string) => path.join(sandbox.dir, `${name}-ran`);
    writeFiles(workspace.dir, {
      // A filter and a diff driver named by attributes, defined in the agent's top-level .git.
      '.gitattributes': '* filter=evil diff=evil\n',
      'notes.txt': 'notes\n',
      'vendor/lib.txt': 'lib\n',
    });
    git(workspace.dir, 'init', '--quiet');
    git(workspace.dir, 'config', 'filter.evil.clean', `touch ${ran('clean')}; cat`);
    git(workspace.dir, 'config', 'diff.evil.textconv', `touch ${ran('textconv')}; cat`);
    // A repository of its own in a subfolder, with a monitor and a hook of its own.
    const vendor = path.join(workspace.dir, 'vendor');
    git(vendor, 'init', '--quiet');
    git(vendor, 'add', '-A');
    git(vendor, 'commit', '--quiet', '-m', 'vendored');
    git(vendor, 'config', 'core.fsmonitor', `touch ${ran('fsmonitor')}`);
    writeFiles(path.join(vendor, '.git', 'hooks'), {
      'pre-commit': `#!/bin/sh\ntouch ${ran('hook')}\n`,
    });
    chmodSync(path.join(vendor, '.git', 'hooks', 'pre-commit'), 0o755);

    const diff = await collectDiff(workspace.dir, workspace.baseCommit);

    expect(diff.filesChanged.map((file) => file.path)).toEqual(
      expect.arrayContaining(['.gitattributes', 'notes.txt']),
    );
    expect(diff.unifiedDiff).toContain('+notes');
    for (const name of ['clean', 'textconv', 'fsmonitor', 'hook']) expect(existsSync(ran(name))).toBe(false);
  });

  it('should take the rest of the diff when the agent left a subfolder repository without a commit', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-unborn-sub' });
    writeFiles(workspace.dir, { 'app.txt': 'app\n', 'scaffold/readme.txt': 'scaffolded\n' });
    git(path.join(workspace.dir, 'scaffold'), 'init', '--quiet');

    const diff = await collectDiff(workspace.dir, workspace.baseCommit);

    expect(diff.filesChanged.map((file) => file.path)).toEqual(['app.txt']);
    expect(workspaceGit(workspace.dir, 'log', '-1', '--format=%s')).toBe('hangar: task task-unborn-sub');
  });

  it('should move the repository into the folder for a later task that shares it, the diffs going on from there', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-shared' });
    writeFiles(workspace.dir, { 'plan.md': 'plan\n' });
    const first = await collectDiff(workspace.dir, workspace.baseCommit, { message: 'hangar: task plan' });

    await moveRepositoryInside(workspace.dir);

    expect(existsSync(`${workspace.dir}.git`)).toBe(false);
    // The next agent reads what the first did, with plain git in its folder.
    expect(git(workspace.dir, 'log', '-1', '--format=%s')).toBe('hangar: task plan');
    writeFiles(workspace.dir, { 'work.txt': 'done\n' });
    const second = await collectDiff(workspace.dir, first.commit!, { message: 'hangar: task work' });
    expect(second.filesChanged.map((file) => file.path)).toEqual(['work.txt']);
    expect(git(workspace.dir, 'log', '--format=%s')).toBe(
      'hangar: task work\nhangar: task plan\nhangar: empty workspace',
    );
  });

  // Empty workspaces are written from one repository git made once (not seven git commands each):
  // each must still be a whole repository of its own, as git itself would have made it.
  it('should give every empty workspace a repository of its own that git finds sound', async () => {
    const [first, second] = await Promise.all([
      prepareWorkspace({ root, taskId: 'task-empty-a' }),
      prepareWorkspace({ root, taskId: 'task-empty-b' }),
    ]);

    for (const workspace of [first, second]) {
      expect(workspaceGit(workspace.dir, 'fsck', '--strict', '--no-dangling')).toBe('');
      expect(workspaceGit(workspace.dir, 'symbolic-ref', 'HEAD')).toBe(`refs/heads/${workspace.branch}`);
      expect(workspaceGit(workspace.dir, 'rev-parse', 'HEAD', 'refs/hangar/base')).toBe(
        `${workspace.baseCommit}\n${workspace.baseCommit}`,
      );
      expect(workspaceGit(workspace.dir, 'status', '--porcelain')).toBe('');
      expect(workspaceGit(workspace.dir, 'config', 'user.name')).toBe('Hangar');
    }
    writeFiles(first.dir, { 'only-here.txt': 'a\n' });
    const diff = await collectDiff(first.dir, first.baseCommit);

    // The first one's commit is its own: the second neither has it nor moved.
    expect(workspaceGit(first.dir, 'cat-file', '-t', diff.commit!)).toBe('commit');
    expect(() => workspaceGit(second.dir, 'cat-file', '-e', diff.commit!)).toThrow();
    expect(workspaceGit(second.dir, 'rev-parse', 'HEAD')).toBe(second.baseCommit);
    // The repository git made for them (beside them, on their filesystem) is gone.
    expect(readdirSync(root).filter((name) => name.startsWith('.empty-'))).toEqual([]);
  });

  it('should reuse its own workspace on a retry and refuse a folder it did not prepare', async () => {
    const first = await prepareWorkspace({ root, taskId: 'task-8', repository: spec() });
    const again = await prepareWorkspace({ root, taskId: 'task-8', repository: spec() });
    writeFiles(root, { 'foreign/file.txt': 'x' });

    expect(again).toEqual({ ...first, reused: true });
    // One made without a repository, holding what its first attempt left.
    const plain = await prepareWorkspace({ root, taskId: 'task-8-plain' });
    writeFiles(plain.dir, { 'left.txt': 'x' });
    expect(await prepareWorkspace({ root, taskId: 'task-8-plain' })).toEqual({ ...plain, reused: true });
    expect(await failure(prepareWorkspace({ root, taskId: 'foreign' }))).toMatchObject({
      code: 'WORKSPACE_EXISTS',
    });
    expect(await failure(prepareWorkspace({ root, taskId: '../escape' }))).toMatchObject({
      code: 'WORKSPACE_UNSAFE',
    });
  });

  it('should not run hooks the agent planted in the workspace', async () => {
    const repository = spec();
    const workspace = await prepareWorkspace({ root, taskId: 'task-9', repository });
    const marker = path.join(sandbox.dir, 'hook-ran');
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'pre-push', 'reference-transaction']) {
      const file = path.join(workspace.dir, '.git', 'hooks', hook);
      writeFileSync(file, `#!/bin/sh\ntouch '${marker}'\n`);
      chmodSync(file, 0o755);
    }
    writeFiles(workspace.dir, { 'change.txt': 'x\n' });

    await collectDiff(workspace.dir, workspace.baseCommit);
    await pushBranch(workspace.dir, { branch: workspace.branch, repository });

    expect(existsSync(marker)).toBe(false);
  });

  it('should refuse to push when the workspace config could redirect the push or the credentials', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-10', repository: spec() });
    git(workspace.dir, 'config', `url.${path.join(sandbox.dir, 'elsewhere.git')}.insteadOf`, origin.bare);
    git(workspace.dir, 'config', 'credential.helper', 'store');

    const error = await failure(pushBranch(workspace.dir, { branch: workspace.branch, repository: spec() }));

    expect(error.code).toBe('WORKSPACE_UNSAFE');
    expect(error.message).toMatch(/sets url\..*\.insteadof, credential\.helper/);
  });

  it("should push to the task's repository even when the agent changed origin", async () => {
    const other = path.join(sandbox.dir, 'other.git');
    git(sandbox.dir, 'init', '--quiet', '--bare', other);
    const workspace = await prepareWorkspace({ root, taskId: 'task-11', repository: spec() });
    git(workspace.dir, 'remote', 'set-url', 'origin', other);
    writeFiles(workspace.dir, { 'x.txt': 'x\n' });
    const diff = await collectDiff(workspace.dir, workspace.baseCommit);

    await pushBranch(workspace.dir, { branch: workspace.branch, repository: spec() });

    expect(git(origin.bare, 'rev-parse', 'refs/heads/hangar/task-11')).toBe(diff.commit);
    expect(git(other, 'for-each-ref')).toBe('');
  });

  it('should push to the configured origin when no repository is given', async () => {
    const workspace = await prepareWorkspace({ root, taskId: 'task-12', repository: spec() });
    writeFiles(workspace.dir, { 'y.txt': 'y\n' });
    const diff = await collectDiff(workspace.dir, workspace.baseCommit);

    await pushBranch(workspace.dir, { remote: 'origin', branch: workspace.branch });

    expect(git(origin.bare, 'rev-parse', 'refs/heads/hangar/task-12')).toBe(diff.commit);
  });
});
