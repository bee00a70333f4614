import { Inject, Injectable, Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  collectDiff,
  currentCommit,
  hasRepository,
  moveRepositoryInside,
  moveWorkspace,
  noChanges,
  parseRepositorySpec,
  prepareWorkspace,
  pushBranch,
  renameWorkspaceBranch,
  workspaceFingerprint,
  type GitCredentials,
  type GitOptions,
  type GitHostPolicy,
  type RepositorySpec,
  type Workspace,
  type WorkspaceDiff,
} from '@hangar/workspaces';
import type { Task } from '@hangar/contracts';
import { RUN_SETTINGS, type RunSettings } from '../../config';
import type { ClaimedAttempt } from '../attempts/attempt-backend';
import { sharedWorkspaceInPod } from '../kubernetes/task-job';
import { AGENT_SANDBOX, type AgentSandbox } from '../sandbox/agent-sandbox';

// Conversations' workspaces live here under WORKSPACE_ROOT, kept with the conversation.
export const CONVERSATIONS_FOLDER = 'conversations';
// A task's workspace folder is named after its id.
const TASK_ID = /^[A-Za-z0-9_-]{1,100}$/;

export interface PreparedWorkspace {
  dir: string;
  // Set when the workspace is a git clone: the task's branch and the commit it started from.
  branch: string | null;
  baseCommit: string | null;
  // Its workspaceFingerprint while its tree was exactly baseCommit's (a workspace made for this
  // attempt, before the agent started): unchanged after the run, the diff is empty without git.
  // Null for a workspace an earlier run left (it may hold what that run did not commit).
  cleanFingerprint: string | null;
}

// A workspace made before any agent worked in it, with its fingerprint (PreparedWorkspace).
export type FreshWorkspace = Workspace & { cleanFingerprint: string | null };

// Where a run works: its own folder, its conversation's (kept between turns), or an earlier
// task's (`workspaceOf`, a workflow step going on where another left off); a clone of the task's
// repository on branch hangar/<id> when it names one. After the run: the diff is
// stored on the task, and the branch pushed when the task asked for it.
@Injectable()
export class WorkspaceService {
  private readonly logger = new Logger(WorkspaceService.name);

  constructor(
    @Inject(AGENT_SANDBOX) private readonly sandbox: AgentSandbox,
    @Inject(RUN_SETTINGS) private readonly config: RunSettings,
  ) {}

  // Git on a workspace an agent has worked in runs in a sandbox too (see GitOptions.sandbox).
  private get git(): { git?: GitOptions } {
    const sandbox = this.sandbox.gitSandbox();
    return sandbox ? { git: { sandbox } } : {};
  }

  async prepare(attempt: ClaimedAttempt): Promise<PreparedWorkspace> {
    const { task } = attempt;
    if (task.workspaceOf) return this.sharedWith(task.id, task.workspaceOf);
    const root = task.conversationId
      ? path.join(this.config.WORKSPACE_ROOT, CONVERSATIONS_FOLDER)
      : this.config.WORKSPACE_ROOT;
    const id = task.conversationId ?? task.id;
    const dir = path.join(root, id);
    // A later turn: same folder, same branch; this turn's diff starts from where the last one ended.
    if (task.conversationId && existsSync(dir)) return this.continued(dir, id);
    // Without a repository the workspace is an empty folder with a git repository beside it (out
    // of the agent's sight), so every task's changes can be shown as a diff.
    const access = await this.remoteAccess(attempt);
    await mkdir(root, { recursive: true });
    const workspace = await prepareWorkspace({
      root,
      taskId: id,
      ...access,
      ...this.git,
    });
    return {
      dir: workspace.dir,
      branch: workspace.branch,
      baseCommit: workspace.baseCommit,
      // A retry's workspace may hold what its earlier attempt did not commit.
      cleanFingerprint: workspace.reused ? null : workspaceFingerprint(workspace.dir),
    };
  }

  // Still exactly as prepared for the attempt (its diff is empty; no git needed to say so).
  untouched(workspace: Pick<PreparedWorkspace, 'dir' | 'cleanFingerprint'>): boolean {
    return (
      workspace.cleanFingerprint !== null &&
      workspaceFingerprint(workspace.dir) === workspace.cleanFingerprint
    );
  }

  // What deliver stores for a workspace found untouched just now (not walked again), with no push.
  async deliverUntouched(attempt: ClaimedAttempt, workspace: PreparedWorkspace): Promise<void> {
    if (workspace.baseCommit && workspace.branch) await saveDiff(attempt, noChanges());
  }

  // A workspace for a CLI started before its task (the warm pool): what a task without a
  // repository gets, under another root and id until a task takes it (adopt).
  async prepareFresh(root: string, id: string): Promise<FreshWorkspace> {
    const workspace = await prepareWorkspace({ root, taskId: id, ...this.git });
    return { ...workspace, cleanFingerprint: workspaceFingerprint(workspace.dir) };
  }

  // A warm CLI's workspace becomes the task's: its folder and branch as prepare would have made
  // them (the CLI, in its sandbox, sees it at the same path throughout; in a warm task pod, where
  // it has none, the folder stays where the CLI started).
  async adopt(workspace: FreshWorkspace, task: Task): Promise<PreparedWorkspace> {
    // Still as prepared, or its CLI wrote something while it waited (then no shortcut).
    const untouched = this.untouched(workspace);
    // In a task pod the CLI sees its workspace at its real path, and the pod is the task's alone:
    // the folder stays, only its branch becomes the task's.
    const moved =
      this.sandbox.mode === 'pod'
        ? await renameWorkspaceBranch(workspace, task.id)
        : await moveWorkspace(workspace, { root: this.config.WORKSPACE_ROOT, taskId: task.id });
    return {
      dir: moved.dir,
      branch: moved.branch,
      baseCommit: moved.baseCommit,
      cleanFingerprint: untouched ? workspaceFingerprint(moved.dir) : null,
    };
  }

  // The earlier task's folder and branch, as a later conversation turn has them: only on the
  // runner that ran it, and until the sweeper takes it.
  private async sharedWith(taskId: string, ownerId: string): Promise<PreparedWorkspace> {
    if (this.sandbox.mode === 'pod') throw new Error(sharedWorkspaceInPod(taskId, ownerId));
    if (!TASK_ID.test(ownerId)) throw new Error(`workspaceOf "${ownerId}" is not a task id`);
    const dir = path.join(this.config.WORKSPACE_ROOT, ownerId);
    if (!existsSync(dir))
      throw new Error(
        `the workspace of task ${ownerId}, which this task must work in, is not on this runner: that task ran on another runner, or its workspace was swept (WORKSPACE_RETENTION_HOURS)`,
      );
    // This agent reads what the earlier ones did in it (git log, git show HEAD).
    await moveRepositoryInside(dir);
    return this.continued(dir, ownerId);
  }

  // A workspace an earlier run left: its diff starts from the folder's current commit.
  private async continued(dir: string, id: string): Promise<PreparedWorkspace> {
    const isGit = hasRepository(dir);
    return {
      dir,
      branch: isGit ? `hangar/${id}` : null,
      baseCommit: isGit ? await currentCommit(dir, this.git.git) : null,
      cleanFingerprint: null,
    };
  }

  // The gateway checked the repository already; the runner checks again (same rules, the
  // project's git hosts as they are now) before git sees it.
  private async remoteAccess(
    attempt: ClaimedAttempt,
  ): Promise<{ repository?: RepositorySpec; hosts?: GitHostPolicy; credentials?: GitCredentials }> {
    const { task } = attempt;
    if (!task.repository) return {};
    const { hosts, allowedLocalRoots, sshKeyPath } = await attempt.gitAccess();
    const repository = parseRepositorySpec(
      { repository: task.repository, ...(task.ref ? { ref: task.ref } : {}) },
      { allowedLocalRoots, hosts },
    );
    return { repository, hosts, ...(sshKeyPath ? { credentials: { sshKeyPath } } : {}) };
  }

  // Returns an error (the task then fails) only when a requested push did not happen.
  async deliver(
    attempt: ClaimedAttempt,
    workspace: PreparedWorkspace,
    completed: boolean,
  ): Promise<{ error?: string }> {
    const { task } = attempt;
    if (!workspace.baseCommit || !workspace.branch) return {};
    try {
      const diff = await collectDiff(workspace.dir, workspace.baseCommit, {
        message: `hangar: task ${task.id}`,
        cleanFingerprint: workspace.cleanFingerprint,
        ...this.git,
      });
      await saveDiff(attempt, diff);
    } catch (error) {
      this.logger.error({ err: error, taskId: task.id }, 'could not take the diff');
      return {
        error: `workspace: could not take the diff: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    if (!task.push || !completed || !task.repository) return {};
    try {
      const access = await this.remoteAccess(attempt);
      // To the task's own repository URL, not whatever `origin` says now: the agent could change that.
      await pushBranch(workspace.dir, { branch: workspace.branch, ...access, ...this.git });
      await attempt.markPushed();
      return {};
    } catch (error) {
      return {
        error: `workspace: push of ${workspace.branch} failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
}

function saveDiff(attempt: ClaimedAttempt, diff: WorkspaceDiff): Promise<void> {
  return attempt.saveDiff({
    unifiedDiff: diff.unifiedDiff,
    truncated: diff.truncated,
    files: diff.filesChanged.map(({ path: file, status, additions, deletions }) => ({
      path: file,
      status,
      additions,
      deletions,
    })),
    linesAdded: diff.linesAdded,
    linesRemoved: diff.linesRemoved,
    commit: diff.commit,
  });
}
