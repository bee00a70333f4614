import { GitCommandFailed, runGit, type GitOptions } from './git.runner';
import { openWorkspace } from './workspace-directory.guard';
import { WorkspaceError } from './workspace.errors';

export type FileChangeStatus = 'added' | 'modified' | 'deleted' | 'renamed';

export interface FileChange {
  path: string;
  // Set for renames.
  previousPath?: string;
  status: FileChangeStatus;
  additions: number;
  deletions: number;
  // Binary files count as changed, with 0 lines either way.
  binary: boolean;
}

export interface WorkspaceDiff {
  unifiedDiff: string;
  // unifiedDiff was cut (at a line end) to maxDiffBytes; the file list and counts are complete.
  truncated: boolean;
  filesChanged: FileChange[];
  linesAdded: number;
  linesRemoved: number;
  // The commit holding the changes (the branch tip); null when nothing changed since the base.
  commit: string | null;
  // Whether this call committed something (false when the agent had committed everything itself).
  committed: boolean;
}

export interface CollectDiffOptions {
  // Default: "hangar: task <id>" on branch hangar/<id>.
  message?: string;
  maxDiffBytes?: number;
  git?: GitOptions;
}

export const DEFAULT_MAX_DIFF_BYTES = 1024 * 1024;

// Commits everything in the working tree (new files too; .gitignore'd ones not) on the checked-out
// branch, then describes base..branch tip. Plumbing (write-tree, commit-tree, update-ref) rather than
// `git commit`: no hook, template, editor or signing configured in the workspace comes into play.
export async function collectDiff(
  dir: string,
  baseCommit: string,
  options: CollectDiffOptions = {},
): Promise<WorkspaceDiff> {
  if (!/^[0-9a-f]{7,64}$/.test(baseCommit)) {
    throw new WorkspaceError('GIT_FAILED', 'base commit must be a commit id (hexadecimal)');
  }
  const workspace = await openWorkspace(dir, options.git);
  const git = async (args: string[]) =>
    (await runGit(workspace.context, { args, env: workspace.env })).stdout.trim();

  const base = await git(['rev-parse', '--verify', `${baseCommit}^{commit}`]).catch((error: unknown) => {
    if (!(error instanceof GitCommandFailed)) throw error;
    throw new WorkspaceError('GIT_FAILED', `base commit ${baseCommit} is not in the workspace`);
  });
  await git(['add', '--all']);
  const head = await git(['rev-parse', '--verify', 'HEAD^{commit}']);
  const tree = await git(['write-tree']);
  let tip = head;
  let committed = false;
  if (tree !== (await git(['rev-parse', '--verify', 'HEAD^{tree}']))) {
    const message = options.message ?? (await defaultMessage(git));
    tip = await git(['commit-tree', tree, '-p', head, '-m', message]);
    // Moves the checked-out branch, and only if nobody moved it meanwhile.
    await git(['update-ref', '-m', message, 'HEAD', tip, head]);
    committed = true;
  }
  if (tip === base) {
    return {
      unifiedDiff: '',
      truncated: false,
      filesChanged: [],
      linesAdded: 0,
      linesRemoved: 0,
      commit: null,
      committed,
    };
  }

  const diff = ['diff', '--no-ext-diff', '--no-textconv', '--no-color', '--find-renames'];
  const range = [base, tip, '--'];
  const numstat = parseNumstat(await git([...diff, '--numstat', '-z', ...range]));
  const statuses = parseNameStatus(await git([...diff, '--name-status', '-z', ...range]));
  const maxDiffBytes = options.maxDiffBytes ?? DEFAULT_MAX_DIFF_BYTES;
  const unified = await runGit(workspace.context, {
    args: [...diff, '--src-prefix=a/', '--dst-prefix=b/', '--unified=3', ...range],
    env: workspace.env,
    maxOutputBytes: maxDiffBytes,
    allowTruncation: true,
  });

  const filesChanged = statuses.map((entry): FileChange => {
    const counts = numstat.get(entry.path) ?? { additions: 0, deletions: 0, binary: false };
    return { ...entry, ...counts };
  });
  return {
    unifiedDiff: unified.stdout,
    truncated: unified.truncated,
    filesChanged,
    linesAdded: filesChanged.reduce((sum, file) => sum + file.additions, 0),
    linesRemoved: filesChanged.reduce((sum, file) => sum + file.deletions, 0),
    commit: tip,
    committed,
  };
}

async function defaultMessage(git: (args: string[]) => Promise<string>): Promise<string> {
  const branch = await git(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
  const taskId = /^hangar\/(.+)$/.exec(branch)?.[1];
  return taskId === undefined ? 'hangar: changes' : `hangar: task ${taskId}`;
}

interface LineCounts {
  additions: number;
  deletions: number;
  binary: boolean;
}

// `-z --numstat`: "<added>\t<deleted>\t<path>\0", or for a rename "<added>\t<deleted>\t\0<old>\0<new>\0";
// "-" counts mean binary.
export function parseNumstat(output: string): Map<string, LineCounts> {
  const counts = new Map<string, LineCounts>();
  const fields = output.split('\0');
  let index = 0;
  while (index < fields.length) {
    const field = fields[index++] ?? '';
    const match = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(field);
    if (!match) continue;
    const [, added = '-', deleted = '-'] = match;
    let filePath = match[3] ?? '';
    if (filePath === '') {
      index += 1;
      filePath = fields[index++] ?? '';
    }
    const binary = added === '-' || deleted === '-';
    counts.set(filePath, {
      additions: binary ? 0 : Number(added),
      deletions: binary ? 0 : Number(deleted),
      binary,
    });
  }
  return counts;
}

// `-z --name-status`: "<status>\0<path>\0", or "R<score>\0<old>\0<new>\0" for a rename.
export function parseNameStatus(
  output: string,
): { path: string; previousPath?: string; status: FileChangeStatus }[] {
  const entries: { path: string; previousPath?: string; status: FileChangeStatus }[] = [];
  const fields = output.split('\0');
  let index = 0;
  while (index < fields.length) {
    const code = fields[index++] ?? '';
    if (code === '') continue;
    const letter = code.charAt(0);
    if (letter === 'R' || letter === 'C') {
      const previousPath = fields[index++] ?? '';
      const filePath = fields[index++] ?? '';
      entries.push(
        letter === 'R'
          ? { path: filePath, previousPath, status: 'renamed' }
          : { path: filePath, status: 'added' },
      );
      continue;
    }
    entries.push({ path: fields[index++] ?? '', status: statusOf(letter) });
  }
  return entries;
}

function statusOf(letter: string): FileChangeStatus {
  switch (letter) {
    case 'A':
      return 'added';
    case 'D':
      return 'deleted';
    default:
      // M, T (type change), U (unmerged) and anything newer: the path still exists, changed.
      return 'modified';
  }
}
