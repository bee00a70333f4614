import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Patterns, RunnerCancelMessageSchema } from '@hangar/contracts';
import { KubernetesExecutor } from './kubernetes-executor.service';

@Controller()
export class KubernetesController {
  constructor(private readonly executor: KubernetesExecutor) {}

  // Broadcast to every runner; the leading controller deletes the task's Job. (Missed, the
  // next resync finds the cancel request in the task.)
  @EventPattern(Patterns.runnerCancel)
  async cancel(@Payload() payload: unknown): Promise<void> {
    const { taskId } = RunnerCancelMessageSchema.parse(payload);
    await this.executor.cancel(taskId);
  }
}
