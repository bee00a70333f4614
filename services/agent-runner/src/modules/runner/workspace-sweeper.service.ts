import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { existsSync } from 'node:fs';
import { sweepWorkspaces } from '@hangar/workspaces';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { TaskRunService } from './task-run.service';
import { CONVERSATIONS_FOLDER } from './workspace.service';

const SWEEP_EVERY_MS = 60 * 60 * 1000;

// Finished tasks' workspaces go after WORKSPACE_RETENTION_HOURS; running tasks' and every
// conversation's (kept with the conversation) stay.
@Injectable()
export class WorkspaceSweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkspaceSweeperService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runs: TaskRunService,
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
      const running = new Set(this.runs.runningTaskIds());
      const result = await sweepWorkspaces({
        root: this.config.WORKSPACE_ROOT,
        olderThanMs: this.config.WORKSPACE_RETENTION_HOURS * 3600 * 1000,
        keep: (name) => name === CONVERSATIONS_FOLDER || running.has(name),
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
