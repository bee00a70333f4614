import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { existsSync } from 'node:fs';
import { TaskRepository } from '@hangar/db';
import { sweepWorkspaces } from '@hangar/workspaces';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { TaskRunService } from './task-run.service';
import { SPARE_FOLDER } from './spare-sandboxes';
import { WARM_FOLDER } from './warm-pool';
import { CONVERSATIONS_FOLDER } from './workspace.service';

const SWEEP_EVERY_MS = 60 * 60 * 1000;

// Finished tasks' workspaces go after WORKSPACE_RETENTION_HOURS; running tasks', those a queued
// or running task is to work in (workspaceOf), and every conversation's (kept with the
// conversation) stay.
@Injectable()
export class WorkspaceSweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkspaceSweeperService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runs: TaskRunService,
    private readonly tasks: TaskRepository,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  onApplicationBootstrap() {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async sweep(now = Date.now()): Promise<string[]> {
    if (!existsSync(this.config.WORKSPACE_ROOT)) return [];
    try {
      // Asked before the folders are looked at: a task that shares a workspace and is created
      // later finds its workspace gone, and fails saying so.
      const running = new Set([...this.runs.runningTaskIds(), ...(await this.tasks.awaitedWorkspaces())]);
      const result = await sweepWorkspaces({
        root: this.config.WORKSPACE_ROOT,
        olderThanMs: this.config.WORKSPACE_RETENTION_HOURS * 3600 * 1000,
        keep: (name) =>
          name === CONVERSATIONS_FOLDER || name === WARM_FOLDER || name === SPARE_FOLDER || running.has(name),
        now,
      });
      if (result.removed.length > 0) this.logger.log(`removed ${result.removed.length} expired workspace(s)`);
      for (const failure of result.failed)
        this.logger.warn(`could not remove ${failure.dir}: ${failure.message}`);
      return result.removed;
    } catch (error) {
      this.logger.error({ err: error }, 'workspace sweep failed');
      return [];
    }
  }
}
