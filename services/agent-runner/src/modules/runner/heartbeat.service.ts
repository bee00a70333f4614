import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { RUN_SETTINGS, type RunSettings } from '../../config';
import { ATTEMPT_BACKEND, type AttemptBackend } from '../attempts/attempt-backend';
import { TaskRunService } from './task-run.service';

// Tells the orchestrator this process still works on its attempts, and picks up cancel requests
// even when the runner.cancel message was lost (a task pod hears of them only this way, or by
// its Job's deletion).
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ATTEMPT_BACKEND) private readonly backend: AttemptBackend,
    private readonly runs: TaskRunService,
    @Inject(RUN_SETTINGS) private readonly config: RunSettings,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.beat(), this.config.HEARTBEAT_INTERVAL_MS);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async beat(): Promise<void> {
    try {
      const attempts = this.runs.runningAttempts();
      if (attempts.length === 0) return;
      for (const taskId of await this.backend.heartbeat(attempts))
        if (this.runs.cancel(taskId, 'cancelled')) this.logger.log(`task ${taskId} cancelled`);
    } catch (error) {
      this.logger.error({ err: error }, 'heartbeat failed');
    }
  }
}
