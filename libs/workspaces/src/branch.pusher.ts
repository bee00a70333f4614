import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  buildGitEnvironment,
  shellQuote,
  withRemoteEnvironment,
  type GitCredentials,
} from './git-environment.builder';
import type { GitHostPolicy } from './git-host.policy';
import { GitCommandFailed, resolveGitContext, runGit, scrubSecrets, type GitOptions } from './git.runner';
import {
  parseRepositorySpec,
  repositorySource,
  validateRef,
  type RepositorySpec,
} from './repository-spec.parser';
import { assertSafeConfig } from './workspace-config.guard';
import { openWorkspace, type OpenedWorkspace } from './workspace-directory.guard';
import { InvalidRepositorySpec, WorkspaceError } from './workspace.errors';

export interface PushBranchOptions {
  branch: string;
  // Whose configured URL to push to; default "origin".
  remote?: string;
  // Push here instead (the task's own, validated repository): the agent can rewrite the remote's
  // URL in the workspace, so pass it whenever credentials are involved.
  repository?: RepositorySpec;
  // Required for a remote URL: its host must be allowed; HTTPS credentials come from it.
  hosts?: GitHostPolicy;
  credentials?: GitCredentials;
  git?: GitOptions;
}

export interface PushResult {
  branch: string;
  commit: string;
  // Where it went (never with credentials in it).
  url: string;
}

const REMOTE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export async function pushBranch(dir: string, options: PushBranchOptions): Promise<PushResult> {
  const branch = validateRef(options.branch);
  const remote = options.remote ?? 'origin';
  if (!REMOTE_NAME.test(remote))
    throw new WorkspaceError('PUSH_FAILED', 'remote must be a plain remote name');
  const workspace = await openWorkspace(dir, options.git);
  if (!workspace.context.sandbox) await assertSafeConfig(workspace.context, workspace.env);
  const commit = await runGit(workspace.context, {
    args: ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`],
    env: workspace.env,
  }).then(
    (result) => result.stdout.trim(),
    () => {
      throw new WorkspaceError('PUSH_FAILED', `branch ${branch} does not exist in the workspace`);
    },
  );
  const spec = options.repository ?? (await configuredRemote(workspace, remote));
  const url = repositorySource(spec);
  const refspec = `refs/heads/${branch}:refs/heads/${branch}`;
  // A sandboxed workspace is not pushed from: its branch is copied into a repository of Hangar's
  // own, which holds nothing else (no alternates, no configuration of the agent's) and is what
  // git pushes, with the credentials.
  const clean = workspace.context.sandbox
    ? await cleanCopy(workspace, branch, commit, options.git)
    : undefined;
  const source = clean?.workspace ?? workspace;
  try {
    const access = { hosts: options.hosts, credentials: options.credentials };
    await withRemoteEnvironment(source.context, spec, access, (envFor, secrets) =>
      runGit(source.context, {
        // An explicit URL, not the remote's name: no pushurl or other remote setting applies.
        args: ['push', '--quiet', '--no-verify', '--', url, refspec],
        env: envFor(source.dir),
        secrets,
      }),
    );
  } catch (error) {
    if (!(error instanceof GitCommandFailed)) throw error;
    const reason = error.timedOut ? 'timed out' : error.stderr;
    throw new WorkspaceError('PUSH_FAILED', `could not push ${branch}: ${reason}`, undefined, {
      exitCode: error.exitCode,
      timedOut: error.timedOut,
    });
  } finally {
    await clean?.remove();
  }
  return { branch, commit, url: scrubSecrets(url, []) };
}

// A repository of Hangar's own holding the branch, fetched from the workspace through
// git-upload-pack running inside the sandbox (the agent's configuration, alternates or a .git
// file can only misdirect that sandboxed process, never the runner's git). Shallow like the
// workspace; the remote has the commits it stops at.
async function cleanCopy(
  workspace: OpenedWorkspace,
  branch: string,
  commit: string,
  git: GitOptions | undefined,
): Promise<{ workspace: OpenedWorkspace; remove(): Promise<void> }> {
  const { sandbox: _inside, ...plainOptions } = git ?? {};
  const context = resolveGitContext(plainOptions);
  const sandbox = workspace.context.sandbox!;
  const uploadPack = sandbox.wrap(
    { command: 'git-upload-pack', args: [], env: buildGitEnvironment(context, { protocols: [] }) },
    workspace.dir,
    workspace.context.isolatedGitDir,
  );
  const folder = await mkdtemp(path.join(context.tempDir, 'hangar-push-'));
  const remove = () => rm(folder, { recursive: true, force: true });
  try {
    await runGit(context, {
      args: ['init', '--quiet', folder],
      env: buildGitEnvironment(context, { protocols: [] }),
    });
    const env = buildGitEnvironment(context, { protocols: ['file'], workspace: folder });
    await runGit(context, {
      args: [
        '-c',
        'fetch.fsckObjects=true',
        'fetch',
        '--quiet',
        '--update-shallow',
        // git runs it through the shell, with the path to fetch from appended.
        '--upload-pack',
        [uploadPack.command, ...uploadPack.args].map(shellQuote).join(' '),
        workspace.context.isolatedGitDir !== undefined ? sandbox.gitDirSeenAs : sandbox.workspaceSeenAs,
        `refs/heads/${branch}:refs/heads/${branch}`,
      ],
      env,
    });
    const fetched = (
      await runGit(context, { args: ['rev-parse', '--verify', `refs/heads/${branch}^{commit}`], env })
    ).stdout.trim();
    if (fetched !== commit)
      throw new WorkspaceError('PUSH_FAILED', `the copy of ${branch} holds ${fetched}, not ${commit}`);
    return { workspace: { dir: folder, context, env }, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
async function configuredRemote(workspace: OpenedWorkspace, remote: string): Promise<RepositorySpec> {
  const url = await runGit(workspace.context, {
    args: ['config', '--get', `remote.${remote}.url`],
    env: workspace.env,
  }).then(
    (result) => result.stdout.trim(),
    () => {
      throw new WorkspaceError('PUSH_FAILED', `the workspace has no remote named ${remote}`);
    },
  );
  try {
    return parseRepositorySpec({ repository: url }, { allowedLocalRoots: ['/'], allowFileUrls: true });
  } catch (error) {
    if (!(error instanceof InvalidRepositorySpec)) throw error;
    throw new WorkspaceError(
      'WORKSPACE_UNSAFE',
      `the workspace's remote ${remote} has a URL Hangar does not push to: ${error.message}`,
    );
  }
}
