import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { buildGitEnvironment } from './git-environment.builder';
import { resolveGitContext, type GitContext, type GitOptions } from './git.runner';
import { WorkspaceError } from './workspace.errors';

export interface OpenedWorkspace {
  dir: string;
  context: GitContext;
  // No network transport allowed; git uses <dir>/.git and never a repository further up.
  env: Record<string, string>;
}

// A workspace is a real directory (not a symbolic link) with a .git of its own.
export async function openWorkspace(dir: string, git?: GitOptions): Promise<OpenedWorkspace> {
  if (!path.isAbsolute(dir)) {
    throw new WorkspaceError('WORKSPACE_UNSAFE', 'workspace path must be absolute', undefined, { dir });
  }
  const resolved = path.resolve(dir);
  const stats = await lstatOrNull(resolved);
  if (stats === null || stats.isSymbolicLink() || !stats.isDirectory()) {
    throw new WorkspaceError('WORKSPACE_UNSAFE', `${resolved} is not a workspace directory`, undefined, {
      dir: resolved,
    });
  }
  if ((await lstatOrNull(path.join(resolved, '.git'))) === null) {
    throw new WorkspaceError('WORKSPACE_UNSAFE', `${resolved} is not a git workspace (no .git)`, undefined, {
      dir: resolved,
    });
  }
  const context = resolveGitContext(git);
  if (context.sandbox) {
    // Every command on it runs inside the sandbox, where the workspace has another path.
    return {
      dir: resolved,
      context: { ...context, isolatedIn: resolved },
      env: buildGitEnvironment(context, { protocols: [], workspace: context.sandbox.workspaceSeenAs }),
    };
  }
  return {
    dir: resolved,
    context,
    env: buildGitEnvironment(context, { protocols: [], workspace: resolved }),
  };
}

export async function lstatOrNull(target: string) {
  try {
    return await lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
