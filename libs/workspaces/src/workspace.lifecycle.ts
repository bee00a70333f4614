import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, realpath, rename, rm } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildGitEnvironment,
  HANGAR_IDENTITY,
  withRemoteEnvironment,
  type GitCredentials,
  type RemoteAccess,
  type RemoteEnvironment,
} from './git-environment.builder';
import type { GitHostPolicy } from './git-host.policy';
import { GitCommandFailed, resolveGitContext, runGit, type GitContext, type GitOptions } from './git.runner';
import {
  isFullCommitId,
  mayBeAbbreviatedCommitId,
  repositorySource,
  type RepositorySpec,
} from './repository-spec.parser';
import { besideGitDir, besideRepository, lstatOrNull, openWorkspace } from './workspace-directory.guard';
import { WorkspaceError } from './workspace.errors';

export interface PrepareWorkspaceInput {
  // Absolute; created when missing.
  root: string;
  // Names the folder (<root>/<taskId>) and the branch (hangar/<taskId>).
  taskId: string;
  // Without one the workspace is an empty folder, its repository (one empty commit) beside it.
  repository?: RepositorySpec;
  // Required for a remote repository: its host must be allowed; HTTPS credentials come from it.
  hosts?: GitHostPolicy;
  credentials?: GitCredentials;
  git?: GitOptions;
}

export interface Workspace {
  dir: string;
  branch: string;
  baseCommit: string;
  // The folder was already a prepared workspace (a retry): nothing was cloned.
  reused: boolean;
}

export const BASE_REF = 'refs/hangar/base';
const BESIDE_SUFFIX = besideGitDir('');
// $1: the branch; $2, $3: the committer's name and email; $4: the base ref. Prints the commit.
// No template: git's sample hooks and description are a dozen files nobody runs.
const EMPTY_WORKSPACE_SCRIPT = `set -e
"$GIT" init --quiet --template= "--initial-branch=$1"
tree=$("$GIT" write-tree)
commit=$("$GIT" commit-tree "$tree" -m 'hangar: empty workspace')
"$GIT" update-ref "refs/heads/$1" "$commit"
"$GIT" config user.name "$2"
"$GIT" config user.email "$3"
"$GIT" update-ref "$4" "$commit"
printf '%s\\n' "$commit"
`;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

// An empty workspace's repository, as git made it once per git binary and workspace root, in a
// folder of its own beside the workspaces (git records what the filesystem supports — file modes,
// symlinks, case — and that is the workspaces' filesystem): its configuration and its one commit
// and tree objects, the same for every empty workspace. Written per workspace as the least git
// needs: five folders and five files (HEAD, the configuration, the two objects, both refs in
// packed-refs; an absent index is an empty one). Running the seven git commands that make them
// is ~60–80 ms of a cold task's start; writing git's whole layout (eleven folders, seven files)
// took ~3–6 ms of system time on this VM's disk, where each mkdir costs ~0.3 ms
// (docs/performance.md, "The per-task path").
interface EmptyRepository {
  commit: string;
  config: Buffer;
  // The commit's and the empty tree's loose objects: objects/<2>/<38>.
  objects: { path: string; content: Buffer }[];
}
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const EMPTY_BRANCH = 'hangar/empty';
const emptyRepositories = new Map<string, Promise<EmptyRepository>>();

function emptyRepository(context: GitContext, root: string): Promise<EmptyRepository> {
  const key = `${context.binary}\0${root}`;
  let made = emptyRepositories.get(key);
  if (!made) {
    made = makeEmptyRepository(context, root);
    // A failure (git missing) is not kept: the next workspace asks git again.
    made.catch(() => emptyRepositories.delete(key));
    emptyRepositories.set(key, made);
  }
  return made;
}

// (Under a name no task id can take: ids start with a letter or a digit.)
async function makeEmptyRepository(context: GitContext, root: string): Promise<EmptyRepository> {
  const dir = await mkdtemp(path.join(root, '.empty-'));
  try {
    const env = buildGitEnvironment(context, { protocols: [], workspace: dir });
    const made = await runGit(context, {
      script: EMPTY_WORKSPACE_SCRIPT,
      args: [EMPTY_BRANCH, HANGAR_IDENTITY.name, HANGAR_IDENTITY.email, BASE_REF],
      cwd: dir,
      env,
    });
    const commit = made.stdout.trim();
    const gitDir = path.join(dir, '.git');
    const objects = await Promise.all(
      [commit, EMPTY_TREE].map(async (id) => {
        const objectPath = path.join('objects', id.slice(0, 2), id.slice(2));
        return { path: objectPath, content: await readFile(path.join(gitDir, objectPath)) };
      }),
    );
    return { commit, config: await readFile(path.join(gitDir, 'config')), objects };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// An empty repository on `branch` with one empty commit, also at BASE_REF, in `gitDir`; returns
// the commit.
async function writeEmptyRepository(
  context: GitContext,
  root: string,
  gitDir: string,
  branch: string,
): Promise<string> {
  const { commit, config, objects } = await emptyRepository(context, root);
  // Small files of Hangar's own, on a cold task's way to its CLI: written synchronously, not as
  // one awaited call after another on libuv's thread pool.
  mkdirSync(path.join(gitDir, 'refs'), { recursive: true });
  for (const object of objects) {
    mkdirSync(path.dirname(path.join(gitDir, object.path)), { recursive: true });
    writeFileSync(path.join(gitDir, object.path), object.content);
  }
  writeFileSync(path.join(gitDir, 'config'), config);
  writeEmptyRefs(gitDir, commit, branch);
  return commit;
}

// An empty repository's refs: both in packed-refs, HEAD on `branch`.
function writeEmptyRefs(gitDir: string, commit: string, branch: string): void {
  writeFileSync(path.join(gitDir, 'packed-refs'), emptyPackedRefs(commit, branch));
  writeFileSync(path.join(gitDir, 'HEAD'), `ref: refs/heads/${branch}\n`);
}

function emptyPackedRefs(commit: string, branch: string): string {
  return [BASE_REF, `refs/heads/${branch}`]
    .sort()
    .map((ref) => `${commit} ${ref}\n`)
    .join('');
}

// A repository beside its folder whose refs are still as writeEmptyRepository wrote them (nothing
// but Hangar has written there: the repository is not in a waiting CLI's or spare sandbox's
// mounts) gets its branch renamed in those two files, without a git process (~20 ms of a
// task's start). False when they are not as written: git renames it then.
async function renameEmptyBranch(gitDir: string, workspace: Workspace, branch: string): Promise<boolean> {
  const [head, packed, loose] = await Promise.all([
    readFile(path.join(gitDir, 'HEAD'), 'utf8').catch(() => null),
    readFile(path.join(gitDir, 'packed-refs'), 'utf8').catch(() => null),
    readdir(path.join(gitDir, 'refs'), { recursive: true }).catch(() => null),
  ]);
  if (
    head !== `ref: refs/heads/${workspace.branch}\n` ||
    packed !== emptyPackedRefs(workspace.baseCommit, workspace.branch) ||
    loose?.length !== 0
  )
    return false;
  writeEmptyRefs(gitDir, workspace.baseCommit, branch);
  return true;
}

export async function prepareWorkspace(input: PrepareWorkspaceInput): Promise<Workspace> {
  if (!TASK_ID.test(input.taskId)) {
    throw new WorkspaceError(
      'WORKSPACE_UNSAFE',
      "task id must be 1-128 letters, digits, '_' or '-' (starting with a letter or digit) to name a workspace",
    );
  }
  if (!path.isAbsolute(input.root)) {
    throw new WorkspaceError('WORKSPACE_UNSAFE', 'workspace root must be absolute');
  }
  await mkdir(input.root, { recursive: true });
  const root = await realpath(input.root);
  const dir = path.join(root, input.taskId);
  const branch = `hangar/${input.taskId}`;
  const context = resolveGitContext(input.git);

  const beside = besideGitDir(dir);
  const state = await directoryState(dir);
  // A repository beside a folder that is gone was left by a removal cut short: not a workspace.
  if (state === 'missing') await rm(beside, { recursive: true, force: true });
  if (state === 'workspace') {
    const baseCommit = await readBase(dir, input.git);
    if (baseCommit !== null) return { dir, branch, baseCommit, reused: true };
  }
  if (state === 'workspace' || state === 'other') {
    throw new WorkspaceError('WORKSPACE_EXISTS', `${dir} exists and is not a workspace prepared by Hangar`);
  }
  if (state === 'missing') await mkdir(dir);
  try {
    if (input.repository === undefined) {
      const baseCommit = await writeEmptyRepository(context, root, beside, branch);
      return { dir, branch, baseCommit, reused: false };
    } else {
      const access = { hosts: input.hosts, credentials: input.credentials };
      await cloneRepository(context, dir, input.repository, branch, access);
    }
    const env = buildGitEnvironment(context, { protocols: [], workspace: dir });
    const git = (args: string[]) => runGit(context, { args, env }).then((result) => result.stdout.trim());
    if ((await resolveCommit(context, env, 'HEAD')) === null) {
      // An empty repository (or none): one empty commit gives the diff and the branch a base.
      await git(['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
      const tree = await git(['write-tree']);
      const commit = await git(['commit-tree', tree, '-m', 'hangar: empty workspace']);
      await git(['update-ref', `refs/heads/${branch}`, commit]);
    } else if ((await git(['rev-parse', '--symbolic-full-name', 'HEAD'])) !== `refs/heads/${branch}`) {
      await git(['checkout', '--quiet', '-b', branch]);
    }
    await git(['config', 'user.name', HANGAR_IDENTITY.name]);
    await git(['config', 'user.email', HANGAR_IDENTITY.email]);
    const baseCommit = await git(['rev-parse', '--verify', 'HEAD^{commit}']);
    await git(['update-ref', BASE_REF, baseCommit]);
    return { dir, branch, baseCommit, reused: false };
  } catch (error) {
    // Leave nothing half-made: a retry must find the folder missing or empty.
    await rm(beside, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    if (state === 'empty') await mkdir(dir);
    throw error;
  }
}

// A workspace prepared without a repository for one id (a warm CLI's), handed to another (the
// task that takes the CLI): the folder moves to <root>/<taskId> and its branch becomes
// hangar/<taskId>, same commits, same base. The target must not exist. Only a workspace whose
// folder is seen under a fixed path by whatever works in it (a sandbox's /workspace) may move
// while in use.
export async function moveWorkspace(
  workspace: Workspace,
  input: { root: string; taskId: string },
): Promise<Workspace> {
  if (!TASK_ID.test(input.taskId))
    throw new WorkspaceError('WORKSPACE_UNSAFE', `"${input.taskId}" cannot name a workspace`);
  await mkdir(input.root, { recursive: true });
  const dir = path.join(await realpath(input.root), input.taskId);
  if ((await lstatOrNull(dir)) !== null || (await lstatOrNull(besideGitDir(dir))) !== null)
    throw new WorkspaceError('WORKSPACE_EXISTS', `${dir} exists already`);
  // Its repository first: a folder found without it would be no workspace.
  const beside = (await besideRepository(workspace.dir)) !== null;
  if (beside) await rename(besideGitDir(workspace.dir), besideGitDir(dir));
  await rename(workspace.dir, dir);
  const branch = `hangar/${input.taskId}`;
  if (beside && (await renameEmptyBranch(besideGitDir(dir), workspace, branch)))
    return { dir, branch, baseCommit: workspace.baseCommit, reused: false };
  return renameWorkspaceBranch({ ...workspace, dir }, input.taskId);
}

// A fresh workspace's branch becomes the task's (hangar/<task id>), the folder staying where it is:
// a warm task pod's CLI sees its workspace at its real path, which must not change under it.
export async function renameWorkspaceBranch(workspace: Workspace, taskId: string): Promise<Workspace> {
  if (!TASK_ID.test(taskId))
    throw new WorkspaceError('WORKSPACE_UNSAFE', `"${taskId}" cannot name a workspace`);
  const branch = `hangar/${taskId}`;
  // Outside any sandbox: no agent has worked in it yet (a warm CLI only waited there), so nothing
  // in its .git is anyone's but Hangar's.
  const opened = await openWorkspace(workspace.dir);
  await runGit(opened.context, { args: ['branch', '-m', workspace.branch, branch], env: opened.env });
  return { dir: workspace.dir, branch, baseCommit: workspace.baseCommit, reused: false };
}

// A workspace made without a repository that a later task shares (a workflow's next step): its
// repository moves into the folder, so that this agent can read what the earlier ones did (git
// log, git show). Left beside it when the folder holds a .git of the agent's own.
export async function moveRepositoryInside(dir: string): Promise<void> {
  const beside = await besideRepository(dir);
  if (beside === null || (await lstatOrNull(path.join(dir, '.git'))) !== null) return;
  await rename(beside, path.join(dir, '.git'));
}

export async function currentCommit(dir: string, git?: GitOptions): Promise<string> {
  const workspace = await openWorkspace(dir, git);
  const commit = await resolveCommit(workspace.context, workspace.env, 'HEAD');
  if (commit === null)
    throw new WorkspaceError('WORKSPACE_UNSAFE', `${workspace.dir} has no commit checked out`);
  return commit;
}

// Removes the folder (a symbolic link is removed, never followed). With `root`, refuses anything
// that is not directly inside it. Returns false when there was nothing to remove.
export async function removeWorkspace(dir: string, options: { root?: string } = {}): Promise<boolean> {
  if (!path.isAbsolute(dir)) throw new WorkspaceError('WORKSPACE_UNSAFE', 'workspace path must be absolute');
  const target = path.resolve(dir);
  if (target === path.parse(target).root)
    throw new WorkspaceError('WORKSPACE_UNSAFE', 'refusing to remove /');
  if (options.root !== undefined) {
    const root = await realpath(options.root);
    const parent = await realpath(path.dirname(target)).catch(() => null);
    if (parent !== root) {
      throw new WorkspaceError('WORKSPACE_UNSAFE', `${target} is not a workspace directly inside ${root}`);
    }
  }
  // The repository beside the folder first: a folder left without it is still found by the
  // next sweep, a repository left without its folder is removed by the next prepare or sweep.
  const beside = await besideRepository(target);
  if (beside !== null) await rm(beside, { recursive: true, force: true });
  const stats = await lstatOrNull(target);
  if (stats === null) return beside !== null;
  if (!stats.isDirectory()) {
    await rm(target, { force: true });
    return true;
  }
  try {
    await rm(target, { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    // An agent may have left read-only folders behind.
    await makeWritable(target);
    await rm(target, { recursive: true, force: true });
  }
  return true;
}

export interface SweepWorkspacesInput {
  root: string;
  // Folders whose last activity is older than this are removed…
  olderThanMs: number;
  // …unless this protects them (running tasks, conversations). Gets the folder's name (the task id).
  keep: (name: string) => boolean | Promise<boolean>;
  now?: number;
}

export interface SweepResult {
  removed: string[];
  failed: { dir: string; message: string }[];
}

export async function sweepWorkspaces(input: SweepWorkspacesInput): Promise<SweepResult> {
  const result: SweepResult = { removed: [], failed: [] };
  const root = await realpath(input.root).catch(() => null);
  if (root === null) return result;
  const now = input.now ?? Date.now();
  for (const entry of await readdir(root, { withFileTypes: true })) {
    // Only real folders: a symbolic link in the root is never followed, nor a file touched.
    if (!entry.isDirectory()) continue;
    // A workspace's repository beside it goes with its folder (removeWorkspace); one whose
    // folder is gone, on its own.
    const folder = entry.name.endsWith(BESIDE_SUFFIX) ? entry.name.slice(0, -BESIDE_SUFFIX.length) : null;
    if (folder !== null && (await lstatOrNull(path.join(root, folder))) !== null) continue;
    const dir = path.join(root, entry.name);
    try {
      if (await input.keep(entry.name)) continue;
      if (now - (await lastActivity(dir)) < input.olderThanMs) continue;
      if (await removeWorkspace(dir, { root })) result.removed.push(dir);
    } catch (error) {
      result.failed.push({ dir, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}

// Newest of the folder and the git files every run touches (a running task is for `keep` to protect).
async function lastActivity(dir: string): Promise<number> {
  const beside = besideGitDir(dir);
  const markers = [
    dir,
    ...['.git', '.git/index', '.git/HEAD', '.git/logs/HEAD', '.git/refs/heads/hangar'].map((marker) =>
      path.join(dir, marker),
    ),
    ...['', 'index', 'HEAD', 'logs/HEAD', 'refs/heads/hangar'].map((marker) => path.join(beside, marker)),
  ];
  let newest = 0;
  for (const marker of markers) {
    const stats = await lstatOrNull(marker);
    if (stats !== null) newest = Math.max(newest, stats.mtimeMs);
  }
  return newest;
}

async function makeWritable(target: string): Promise<void> {
  const stats = await lstat(target);
  if (!stats.isDirectory()) return;
  await chmod(target, stats.mode | 0o700);
  for (const entry of await readdir(target)) await makeWritable(path.join(target, entry));
}

type DirectoryState = 'missing' | 'empty' | 'workspace' | 'other';

async function directoryState(dir: string): Promise<DirectoryState> {
  const stats = await lstatOrNull(dir);
  if (stats === null) return 'missing';
  if (stats.isSymbolicLink() || !stats.isDirectory()) return 'other';
  // Made without a repository: whatever the folder holds (an earlier attempt's work), it is one.
  if ((await besideRepository(dir)) !== null) return 'workspace';
  const entries = await readdir(dir);
  if (entries.length === 0) return 'empty';
  return entries.includes('.git') ? 'workspace' : 'other';
}

async function readBase(dir: string, git?: GitOptions): Promise<string | null> {
  const workspace = await openWorkspace(dir, git);
  return resolveCommit(workspace.context, workspace.env, BASE_REF);
}

async function resolveCommit(context: GitContext, env: Record<string, string>, rev: string) {
  try {
    const { stdout } = await runGit(context, {
      args: ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`],
      env,
    });
    return stdout.trim() || null;
  } catch (error) {
    if (error instanceof GitCommandFailed && error.exitCode === 1) return null;
    throw error;
  }
}

// Shallow where git can: `clone --depth 1 [--branch <ref>]` for the default branch, a branch or a
// tag; `init` + `fetch --depth 1 <sha>` for a full commit id; a full fetch for an abbreviated one.
// Local repositories are cloned with --no-local, so depth applies and no objects are hard-linked.
async function cloneRepository(
  context: GitContext,
  dir: string,
  spec: RepositorySpec,
  branch: string,
  access: RemoteAccess,
): Promise<void> {
  const source = repositorySource(spec);
  const ref = spec.ref;
  await withRemoteEnvironment(context, spec, access, async (envFor, secrets) => {
    const clone = (extra: string[]) =>
      runGit(context, {
        args: [
          'clone',
          '--quiet',
          '--depth',
          '1',
          '--no-tags',
          ...(spec.kind === 'local' ? ['--no-local'] : []),
          ...extra,
          '--',
          source,
          dir,
        ],
        env: envFor(),
        secrets,
      });
    try {
      if (ref === undefined) {
        await clone([]);
      } else if (isFullCommitId(ref)) {
        await fetchCommit(context, { dir, source, ref, branch, envFor, secrets });
      } else {
        try {
          // clone --branch takes a short name; refs/heads/x and refs/tags/x are accepted as x.
          await clone(['--branch', ref.replace(/^refs\/(heads|tags)\//, '')]);
        } catch (error) {
          if (!(isRefMissing(error) && mayBeAbbreviatedCommitId(ref))) throw error;
          await rm(dir, { recursive: true, force: true });
          await mkdir(dir);
          await fetchCommit(context, { dir, source, ref, branch, envFor, secrets });
        }
      }
    } catch (error) {
      throw cloneError(error, ref, context);
    }
  });
}

interface FetchCommitInput {
  dir: string;
  source: string;
  ref: string;
  branch: string;
  envFor: RemoteEnvironment;
  secrets: string[];
}

async function fetchCommit(context: GitContext, input: FetchCommitInput): Promise<void> {
  const { dir, ref, secrets } = input;
  const env = input.envFor(dir);
  const git = (args: string[]) => runGit(context, { args, env, secrets });
  await runGit(context, {
    args: ['init', '--quiet', `--initial-branch=${input.branch}`],
    cwd: dir,
    env: input.envFor(),
  });
  await git(['remote', 'add', '--', 'origin', input.source]);
  let commit: string | null = null;
  if (isFullCommitId(ref)) {
    // Servers that refuse to serve a commit by id (no allowReachableSHA1InWant) get a full fetch.
    commit = await git(['fetch', '--quiet', '--no-tags', '--depth', '1', '--', 'origin', ref]).then(
      () => resolveCommit(context, env, ref),
      (error: unknown) => {
        if (isRefMissing(error)) return null;
        throw error;
      },
    );
  }
  if (commit === null) {
    await git(['fetch', '--quiet', '--no-tags', '--', 'origin']);
    commit = await resolveCommit(context, env, ref);
  }
  if (commit === null) throw new WorkspaceError('REF_NOT_FOUND', refMissingMessage(ref), 'ref');
  await git(['checkout', '--quiet', '-b', input.branch, commit, '--']);
}

const REF_MISSING =
  /not found in upstream|couldn't find remote ref|not our ref|unadvertised object|unknown revision|bad revision|needed a single revision/i;

function isRefMissing(error: unknown): boolean {
  return error instanceof GitCommandFailed && REF_MISSING.test(error.stderr);
}

function refMissingMessage(ref: string): string {
  return `ref "${ref}" is not a branch, tag or commit of the repository`;
}

function cloneError(error: unknown, ref: string | undefined, context: GitContext): unknown {
  if (!(error instanceof GitCommandFailed)) return error;
  if (ref !== undefined && isRefMissing(error)) {
    return new WorkspaceError('REF_NOT_FOUND', refMissingMessage(ref), 'ref', { stderr: error.stderr });
  }
  const reason = error.timedOut ? `timed out after ${Math.round(context.timeoutMs / 1000)} s` : error.stderr;
  return new WorkspaceError(
    'REPOSITORY_UNAVAILABLE',
    `could not clone the repository: ${reason}`,
    'repository',
    {
      command: error.command,
      exitCode: error.exitCode,
      timedOut: error.timedOut,
    },
  );
}
