import { Injectable } from '@nestjs/common';
import { jobIdOf, QUEUE_PRIORITY, type TaskJob, type TaskPriority } from '@hangar/contracts';
import { type QueueProducer, Queues, TASK_QUEUE_SPEC } from '@hangar/redis';

// The durable queue to the agent-runners. The job id is the task id plus the attempt, so
// enqueuing the same attempt twice (message and reconciler racing) is a no-op.
@Injectable()
export class TaskQueue {
  private readonly queue: QueueProducer<TaskJob>;

  constructor(queues: Queues) {
    this.queue = queues.producer(TASK_QUEUE_SPEC);
  }

  async enqueue(taskId: string, attempt: number, priority: TaskPriority): Promise<void> {
    await this.queue.add(
      'run',
      { taskId, attempt },
      { jobId: jobIdOf(taskId, attempt), priority: QUEUE_PRIORITY[priority] },
    );
  }

  // A job already taken by a runner cannot be removed; the runner then finds the task
  // CANCELLED and drops it.
  async remove(taskId: string, attempt: number): Promise<void> {
    await this.queue.remove(jobIdOf(taskId, attempt));
  }

  async depth(): Promise<number> {
    return this.queue.count();
  }
}
