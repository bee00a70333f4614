import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  Patterns,
  RunnerRegisteredMessageSchema,
  TaskCancelMessageSchema,
  TaskCreatedMessageSchema,
  type TaskCancelReply,
} from '@hangar/contracts';
import { SchedulerService } from './scheduler.service';

@Controller()
export class SchedulingController {
  constructor(private readonly scheduler: SchedulerService) {}

  @EventPattern(Patterns.taskCreated)
  async taskCreated(@Payload() payload: unknown): Promise<void> {
    const { taskId, projectId, trace } = TaskCreatedMessageSchema.parse(payload);
    await this.scheduler.schedule(taskId, projectId, trace);
  }

  @EventPattern(Patterns.runnerRegistered)
  async runnerRegistered(@Payload() payload: unknown): Promise<void> {
    RunnerRegisteredMessageSchema.parse(payload);
    await this.scheduler.runnerRegistered();
  }

  @MessagePattern(Patterns.taskCancel)
  cancel(@Payload() payload: unknown): Promise<TaskCancelReply> {
    const { taskId, trace } = TaskCancelMessageSchema.parse(payload);
    return this.scheduler.cancel(taskId, trace);
  }
}
