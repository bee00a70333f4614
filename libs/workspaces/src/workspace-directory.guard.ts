import { existsSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { buildGitEnvironment } from './git-environment.builder';
import { resolveGitContext, type GitContext, type GitOptions } from './git.runner';
import { WorkspaceError } from './workspace.errors';

export interface OpenedWorkspace {
  dir: string;
  context: GitContext;
  // No network transport allowed; git uses the workspace's own repository (its git directory
  // beside it, or its .git) and never one further up.
  env: Record<string, string>;
}

// A workspace made without a repository keeps its repository beside its folder, at <dir>.git
// (task ids hold no dot, so no task's folder has such a name), never inside it: the agent sees
// the empty folder it would see run by hand. The Claude Code CLI, given a folder with a .git,
// runs a dozen git commands at its start and end and tells the model about the repository — a
// tenth more CPU per run and ~50 ms before its first event (docs/performance.md). A clone's
// repository is its .git: the agent works with it.
export function besideGitDir(dir: string): string {
  return `${dir}.git`;
}

// The repository beside the folder, when there is one (a real directory, not a link).
export async function besideRepository(dir: string): Promise<string | null> {
  const outside = besideGitDir(dir);
  const stats = await lstatOrNull(outside);
  return stats !== null && stats.isDirectory() && !stats.isSymbolicLink() ? outside : null;
}

// Whether the folder is a workspace with a repository (beside it or inside), as a later run in
// it finds it.
export function hasRepository(dir: string): boolean {
  return existsSync(besideGitDir(dir)) || existsSync(path.join(dir, '.git'));
}

// A workspace is a real directory (not a symbolic link) with a repository of its own: beside
// it, or its .git.
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
  const beside = await besideRepository(resolved);
  const context = resolveGitContext(git);
  if (beside !== null) {
    // No agent ever saw it (its sandbox holds the folder only), but git reads what the agent
    // wrote in the folder — a subfolder's .git file may name any repository on the host, whose
    // HEAD git would record — so with a sandbox, git runs in one holding the two alone.
    if (context.sandbox)
      return {
        dir: resolved,
        context: { ...context, isolatedIn: resolved, isolatedGitDir: beside },
        env: buildGitEnvironment(context, {
          protocols: [],
          workspace: context.sandbox.workspaceSeenAs,
          gitDir: context.sandbox.gitDirSeenAs,
        }),
      };
    return {
      dir: resolved,
      context,
      env: buildGitEnvironment(context, { protocols: [], workspace: resolved, gitDir: beside }),
    };
  }
  if ((await lstatOrNull(path.join(resolved, '.git'))) === null) {
    throw new WorkspaceError('WORKSPACE_UNSAFE', `${resolved} is not a git workspace (no .git)`, undefined, {
      dir: resolved,
    });
  }
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
