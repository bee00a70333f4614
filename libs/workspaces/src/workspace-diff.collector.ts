import { GitCommandFailed, runGit, type GitOptions } from './git.runner';
import { openWorkspace } from './workspace-directory.guard';
import { workspaceFingerprint } from './workspace-fingerprint';
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
  // workspaceFingerprint of the folder taken when its tree was exactly baseCommit's, nothing
  // uncommitted (a workspace just prepared). When the folder's fingerprint is still that, nothing
  // changed: the diff is empty, with no git process (no sandbox) at all.
  cleanFingerprint?: string | null;
}

export const DEFAULT_MAX_DIFF_BYTES = 1024 * 1024;

// The diff of a workspace in which nothing changed (nothing committed either); a new one each time.
export function noChanges(): WorkspaceDiff {
  return {
    unifiedDiff: '',
    truncated: false,
    filesChanged: [],
    linesAdded: 0,
    linesRemoved: 0,
    commit: null,
    committed: false,
  };
}

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
  if (options.cleanFingerprint && workspaceFingerprint(dir) === options.cleanFingerprint) return noChanges();
  const git = async (args: string[]) =>
    (await runGit(workspace.context, { args, env: workspace.env })).stdout.trim();

  // Every step up to the commit in one process (in the sandbox: one sandbox, not eight).
  const committing = await runGit(workspace.context, {
    script: COMMIT_SCRIPT,
    args: [baseCommit, options.message ?? ''],
    env: workspace.env,
  }).catch((error: unknown) => {
    if (error instanceof GitCommandFailed && error.exitCode === NO_BASE_EXIT)
      throw new WorkspaceError('GIT_FAILED', `base commit ${baseCommit} is not in the workspace`);
    throw error;
  });
  const [base = '', tip = '', committedFlag] = committing.stdout.trim().split(' ');
  if (!/^[0-9a-f]{7,64}$/.test(base) || !/^[0-9a-f]{7,64}$/.test(tip))
    throw new WorkspaceError(
      'GIT_FAILED',
      `could not commit the workspace's changes: ${committing.stdout.trim()}`,
    );
  const committed = committedFlag === '1';
  if (tip === base) return { ...noChanges(), committed };

  const diff = ['diff', '--no-ext-diff', '--no-textconv', '--no-color', '--find-renames'];
  const range = [base, tip, '--'];
  const maxDiffBytes = options.maxDiffBytes ?? DEFAULT_MAX_DIFF_BYTES;
  // Three readers of the same commits: at once.
  const [numstatOut, statusesOut, unified] = await Promise.all([
    git([...diff, '--numstat', '-z', ...range]),
    git([...diff, '--name-status', '-z', ...range]),
    runGit(workspace.context, {
      args: [...diff, '--src-prefix=a/', '--dst-prefix=b/', '--unified=3', ...range],
      env: workspace.env,
      maxOutputBytes: maxDiffBytes,
      allowTruncation: true,
    }),
  ]);
  const numstat = parseNumstat(numstatOut);
  const statuses = parseNameStatus(statusesOut);

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

const NO_BASE_EXIT = 3;
// $1: the base commit; $2: the message ('' for "hangar: task <id>" from branch hangar/<id>).
// Prints "<base> <tip> <1 if it committed, else 0>".
const COMMIT_SCRIPT = `set -e
base=$("$GIT" rev-parse --verify --quiet "$1^{commit}") || exit ${NO_BASE_EXIT}
# What git cannot add (a subfolder repository the agent made with no commit yet, an unreadable
# file) is left out, the rest committed: exit 1 says that much; anything worse stops here.
"$GIT" add --all --ignore-errors || [ $? -eq 1 ]
head=$("$GIT" rev-parse --verify 'HEAD^{commit}')
tree=$("$GIT" write-tree)
tip=$head
committed=0
if [ "$tree" != "$("$GIT" rev-parse --verify 'HEAD^{tree}')" ]; then
  message=$2
  if [ -z "$message" ]; then
    branch=$("$GIT" symbolic-ref --quiet --short HEAD) || branch=
    case $branch in
      hangar/?*) message="hangar: task \${branch#hangar/}" ;;
      *) message='hangar: changes' ;;
    esac
  fi
  tip=$("$GIT" commit-tree "$tree" -p "$head" -m "$message")
  "$GIT" update-ref -m "$message" HEAD "$tip" "$head"
  committed=1
fi
printf '%s %s %s\\n' "$base" "$tip" "$committed"
`;

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
