import { Inject, Injectable, Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Task } from '@hangar/contracts';
import {
  ConversationRepository,
  ProjectGitHostRepository,
  TaskDiffRepository,
  TaskRepository,
} from '@hangar/db';
import {
  collectDiff,
  currentCommit,
  gitHostPolicy,
  parseRepositorySpec,
  prepareWorkspace,
  pushBranch,
  type GitCredentials,
  type GitHostPolicy,
  type RepositorySpec,
} from '@hangar/workspaces';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';

// Conversations' workspaces live here under WORKSPACE_ROOT, kept with the conversation.
export const CONVERSATIONS_FOLDER = 'conversations';

export interface PreparedWorkspace {
  dir: string;
  // Set when the workspace is a git clone: the task's branch and the commit it started from.
  branch: string | null;
  baseCommit: string | null;
}

// Where a run works: its own folder, or its conversation's (kept between turns); a clone of
// the task's repository on branch hangar/<id> when it names one. After the run: the diff is
// stored on the task, and the branch pushed when the task asked for it.
@Injectable()
export class WorkspaceService {
  private readonly logger = new Logger(WorkspaceService.name);

  constructor(
    private readonly tasks: TaskRepository,
    private readonly diffs: TaskDiffRepository,
    private readonly conversations: ConversationRepository,
    private readonly gitHosts: ProjectGitHostRepository,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  async prepare(task: Task): Promise<PreparedWorkspace> {
    const root = task.conversationId
      ? path.join(this.config.WORKSPACE_ROOT, CONVERSATIONS_FOLDER)
      : this.config.WORKSPACE_ROOT;
    const id = task.conversationId ?? task.id;
    const dir = path.join(root, id);
    if (task.conversationId && existsSync(dir)) {
      // A later turn: same folder, same branch; this turn's diff starts from where the last one ended.
      const isGit = existsSync(path.join(dir, '.git'));
      return {
        dir,
        branch: isGit ? `hangar/${id}` : null,
        baseCommit: isGit ? await currentCommit(dir) : null,
      };
    }
    // Without a repository the workspace is a fresh git repository too, so every task's
    // changes can be shown as a diff.
    const access = await this.remoteAccess(task);
    await mkdir(root, { recursive: true });
    const workspace = await prepareWorkspace({
      root,
      taskId: id,
      ...access,
    });
    if (task.conversationId) await this.conversations.setWorkspace(task.conversationId, workspace.dir);
    return { dir: workspace.dir, branch: workspace.branch, baseCommit: workspace.baseCommit };
  }

  // The gateway checked the repository already; the runner checks again (same rules, the
  // project's git hosts as they are now) before git sees it.
  private async remoteAccess(
    task: Task,
  ): Promise<{ repository?: RepositorySpec; hosts?: GitHostPolicy; credentials?: GitCredentials }> {
    if (!task.repository) return {};
    const hosts = gitHostPolicy(await this.gitHosts.listForSlug(task.project), {
      allowedHosts: this.config.GIT_ALLOWED_HOSTS,
      credentials: this.config.GIT_CREDENTIALS,
    });
    const credentials = this.config.GIT_SSH_KEY_PATH
      ? { sshKeyPath: this.config.GIT_SSH_KEY_PATH }
      : undefined;
    const repository = parseRepositorySpec(
      { repository: task.repository, ...(task.ref ? { ref: task.ref } : {}) },
      { allowedLocalRoots: this.config.WORKSPACE_ALLOWED_LOCAL_ROOTS, hosts },
    );
    return { repository, hosts, ...(credentials ? { credentials } : {}) };
  }

  // Returns an error (the task then fails) only when a requested push did not happen.
  async deliver(task: Task, workspace: PreparedWorkspace, completed: boolean): Promise<{ error?: string }> {
    if (!workspace.baseCommit || !workspace.branch) return {};
    try {
      const diff = await collectDiff(workspace.dir, workspace.baseCommit, {
        message: `hangar: task ${task.id}`,
      });
      await this.diffs.save({
        taskId: task.id,
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
    } catch (error) {
      this.logger.error({ err: error, taskId: task.id }, 'could not take the diff');
      return {
        error: `workspace: could not take the diff: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    if (!task.push || !completed || !task.repository) return {};
    try {
      const access = await this.remoteAccess(task);
      // To the task's own repository URL, not whatever `origin` says now: the agent could change that.
      await pushBranch(workspace.dir, { branch: workspace.branch, ...access });
      await this.tasks.markPushed(task.id);
      return {};
    } catch (error) {
      return {
        error: `workspace: push of ${workspace.branch} failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
}
