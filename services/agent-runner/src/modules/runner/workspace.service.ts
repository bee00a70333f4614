import { Inject, Injectable, Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Task } from '@hangar/contracts';
import { ConversationRepository, TaskDiffRepository, TaskRepository } from '@hangar/db';
import {
  collectDiff,
  currentCommit,
  parseRepositorySpec,
  prepareWorkspace,
  pushBranch,
  type GitCredentials,
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
    const repository = this.repositoryOf(task);
    await mkdir(root, { recursive: true });
    const workspace = await prepareWorkspace({
      root,
      taskId: id,
      ...(repository ? { repository } : {}),
      ...this.credentials(),
    });
    if (task.conversationId) await this.conversations.setWorkspace(task.conversationId, workspace.dir);
    return { dir: workspace.dir, branch: workspace.branch, baseCommit: workspace.baseCommit };
  }

  // The gateway checked the repository already; the runner checks again (same rules) before git sees it.
  private repositoryOf(task: Task): RepositorySpec | undefined {
    if (!task.repository) return undefined;
    return parseRepositorySpec(
      { repository: task.repository, ...(task.ref ? { ref: task.ref } : {}) },
      { allowedLocalRoots: this.config.WORKSPACE_ALLOWED_LOCAL_ROOTS },
    );
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
    const repository = this.repositoryOf(task);
    if (!task.push || !completed || !repository) return {};
    try {
      // To the task's own repository URL, not whatever `origin` says now: the agent could change that.
      await pushBranch(workspace.dir, { branch: workspace.branch, repository, ...this.credentials() });
      await this.tasks.markPushed(task.id);
      return {};
    } catch (error) {
      return {
        error: `workspace: push of ${workspace.branch} failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  private credentials(): { credentials?: GitCredentials } {
    const credentials: GitCredentials = {
      ...(this.config.GIT_PUSH_TOKEN ? { httpsToken: this.config.GIT_PUSH_TOKEN } : {}),
      ...(this.config.GIT_SSH_KEY_PATH ? { sshKeyPath: this.config.GIT_SSH_KEY_PATH } : {}),
    };
    return Object.keys(credentials).length > 0 ? { credentials } : {};
  }
}
