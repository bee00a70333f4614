import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  DelegationPatterns,
  type StartChildTaskReply,
  type StartChildWorkflowReply,
} from '@hangar/contracts';
import { DelegationService } from './delegation.service';

// Requests of the runners that serve delegating agents (Redis transport).
@Controller()
export class DelegationController {
  constructor(private readonly delegation: DelegationService) {}

  @MessagePattern(DelegationPatterns.startChildTask)
  startChildTask(@Payload() payload: unknown): Promise<StartChildTaskReply> {
    return this.delegation.startChildTask(payload);
  }

  @MessagePattern(DelegationPatterns.startChildWorkflow)
  startChildWorkflow(@Payload() payload: unknown): Promise<StartChildWorkflowReply> {
    return this.delegation.startChildWorkflow(payload);
  }
}
