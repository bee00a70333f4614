import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prepareSandboxHost, SANDBOX_GIT_DIR, SANDBOX_WORKSPACE, sandboxCommand } from '@hangar/sandbox';
import {
  collectDiff,
  currentCommit,
  gitHostPolicy,
  parseRepositorySpec,
  prepareWorkspace,
  pushBranch,
  type GitOptions,
} from '../src';
import { git, makeOrigin, makeSandbox, writeFiles, type Origin, type Sandbox } from './support/git-fixture';

// What an agent leaves in its workspace's .git is the agent's: git run on it by the runner runs
// in a sandbox holding only that workspace, and a push goes from a clean copy of the branch.
describe('git on a workspace an agent worked in', () => {
  let dirs: Sandbox;
  let origin: Origin;
  let root: string;
  let options: GitOptions;
  let count = 0;

  beforeAll(() => {
    dirs = makeSandbox();
    origin = makeOrigin(dirs.dir);
    root = path.join(dirs.dir, 'workspaces');
    const host = prepareSandboxHost({ dir: path.join(dirs.dir, 'sandbox-host') });
    options = {
      sandbox: {
        workspaceSeenAs: SANDBOX_WORKSPACE,
        gitDirSeenAs: SANDBOX_GIT_DIR,
        wrap: (line, workspace, gitDir) =>
          sandboxCommand(line, { workspace, ...(gitDir !== undefined ? { gitDir } : {}) }, host),
      },
    };
  });

  afterAll(() => dirs.cleanup());

  async function workspace() {
    count += 1;
    const repository = parseRepositorySpec({ repository: origin.bare }, { allowedLocalRoots: [dirs.dir] });
    return { repository, ...(await prepareWorkspace({ root, taskId: `task-${count}`, repository })) };
  }

  it('should run a clean filter the agent configured inside the sandbox, not as the runner', async () => {
    const { dir, baseCommit } = await workspace();
    const outside = path.join(dirs.dir, 'filter-ran-outside');
    git(dir, 'config', 'filter.planted.clean', `sh -c 'echo ran > ${outside}; cat'`);
    writeFiles(dir, { '.gitattributes': '* filter=planted\n', 'notes.txt': 'from the agent\n' });
    const diff = await collectDiff(dir, baseCommit, { git: options });
    expect(diff.filesChanged.map((file) => file.path).sort()).toEqual(['.gitattributes', 'notes.txt']);
    expect(existsSync(outside)).toBe(false);
    // Without the sandbox the same workspace runs it as the caller: what the sandbox prevents.
    writeFiles(dir, { 'notes.txt': 'again\n' });
    await collectDiff(dir, baseCommit);
    expect(readFileSync(outside, 'utf8')).toBe('ran\n');
  });

  it("should not follow a .git file the agent pointed at another task's repository", async () => {
    const victim = await workspace();
    const before = git(victim.dir, 'rev-parse', 'HEAD');
    const { dir, baseCommit } = await workspace();
    git(dir, 'config', 'core.bare', 'false');
    const own = path.join(dir, '.git');
    // The agent swaps its .git folder for a file naming the victim's.
    rmSync(own, { recursive: true });
    writeFileSync(own, `gitdir: ${path.join(victim.dir, '.git')}\n`);
    writeFiles(dir, { 'planted.txt': 'into the victim\n' });
    await expect(collectDiff(dir, baseCommit, { git: options })).rejects.toThrow();
    await expect(currentCommit(dir, options)).rejects.toThrow();
    expect(git(victim.dir, 'rev-parse', 'HEAD')).toBe(before);
    expect(git(victim.dir, 'status', '--porcelain')).toBe('');
  });

  it('should push the branch from a clean copy, whatever the agent configured', async () => {
    const { dir, baseCommit, branch, repository } = await workspace();
    // Configuration that would redirect or run something on a push from the workspace itself.
    git(dir, 'config', 'url.file:///nowhere/.insteadOf', origin.bare);
    git(dir, 'config', 'core.sshCommand', 'touch /tmp/ssh-ran');
    writeFiles(dir, { 'pushed.txt': 'through a clean copy\n' });
    const diff = await collectDiff(dir, baseCommit, { git: options });
    const hosts = gitHostPolicy([], { allowedHosts: [] });
    const pushed = await pushBranch(dir, { branch: branch, repository, hosts, git: options });
    expect(pushed.commit).toBe(diff.commit);
    expect(git(origin.bare, 'rev-parse', `refs/heads/${branch}`)).toBe(diff.commit);
    expect(existsSync('/tmp/ssh-ran')).toBe(false);
  });

  // A workspace made without a repository keeps Hangar's beside its folder, where the agent never
  // sees it; git on it still reads the agent's files.
  it("should not let a subfolder's .git file name another task's repository when it takes a diff of a folder without one", async () => {
    const victim = await workspace();
    const secret = git(victim.dir, 'rev-parse', 'HEAD');
    const plain = await prepareWorkspace({ root, taskId: `task-plain-${count}` });
    // The agent makes a subfolder whose .git names the victim's repository: git add would record
    // it as a submodule at the victim's HEAD.
    writeFiles(plain.dir, {
      'vendor/.git': `gitdir: ${path.join(victim.dir, '.git')}\n`,
      'own.txt': 'own\n',
    });

    const diff = await collectDiff(plain.dir, plain.baseCommit, { git: options });

    expect(diff.filesChanged.map((file) => file.path)).toContain('own.txt');
    expect(JSON.stringify(diff)).not.toContain(secret);
    expect(git(victim.dir, 'status', '--porcelain')).toBe('');
    // Its branch still pushes, from a clean copy fetched inside the sandbox.
    const hosts = gitHostPolicy([], { allowedHosts: [] });
    const repository = parseRepositorySpec({ repository: origin.bare }, { allowedLocalRoots: [dirs.dir] });
    const pushed = await pushBranch(plain.dir, { branch: plain.branch, repository, hosts, git: options });
    expect(pushed.commit).toBe(diff.commit);
    expect(git(origin.bare, 'rev-parse', `refs/heads/${plain.branch}`)).toBe(diff.commit);
    // Without the sandbox the same folder gives the victim's commit away: what the sandbox prevents.
    const again = await prepareWorkspace({ root, taskId: `task-plain-${count}-bare` });
    writeFiles(again.dir, { 'vendor/.git': `gitdir: ${path.join(victim.dir, '.git')}\n` });
    expect(JSON.stringify(await collectDiff(again.dir, again.baseCommit))).toContain(secret);
  });
});
