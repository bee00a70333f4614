import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TaskRepository } from '@hangar/db';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { TaskRunService } from './task-run.service';

// Tells the orchestrator this runner still works on its tasks, and picks up cancel requests
// even when the runner.cancel message was lost.
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tasks: TaskRepository,
    private readonly runs: TaskRunService,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.beat(), this.config.HEARTBEAT_INTERVAL_MS);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async beat(): Promise<void> {
    try {
      const toCancel = await this.tasks.heartbeat(this.config.RUNNER_ID, this.runs.runningTaskIds());
      for (const taskId of toCancel)
        if (this.runs.cancel(taskId, 'cancelled')) this.logger.log(`task ${taskId} cancelled`);
    } catch (error) {
      this.logger.error({ err: error }, 'heartbeat failed');
    }
  }
}
