import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Patterns, RunnerCancelMessageSchema } from '@hangar/contracts';
import { TaskRunService } from './task-run.service';

@Controller()
export class RunnerController {
  private readonly logger = new Logger(RunnerController.name);

  constructor(private readonly runs: TaskRunService) {}

  // Broadcast to every runner; only the one running the task acts.
  @EventPattern(Patterns.runnerCancel)
  cancel(@Payload() payload: unknown): void {
    const { taskId } = RunnerCancelMessageSchema.parse(payload);
    if (this.runs.cancel(taskId, 'cancelled')) this.logger.log(`task ${taskId} cancelled`);
  }
}
