import { Injectable } from '@nestjs/common';
import { taskIdOfJob, type TaskJob } from '@hangar/contracts';
import { type QueueProducer, Queues, TASK_QUEUE_SPEC } from '@hangar/redis';

export interface QueuedTaskIds {
  waiting: string[];
  delayed: string[];
  active: string[];
}

// Reads the orchestrator's task queue without adding to it: which tasks its jobs are for, by
// state. Jobs carry a priority, so waiting ones sit in `prioritized`.
@Injectable()
export class TaskQueueJobs {
  private readonly queue: QueueProducer<TaskJob>;

  constructor(queues: Queues) {
    this.queue = queues.producer(TASK_QUEUE_SPEC);
  }

  async taskIds(): Promise<QueuedTaskIds> {
    const [waiting, delayed, active] = await Promise.all([
      this.queue.jobIds(['wait', 'prioritized']),
      this.queue.jobIds(['delayed']),
      this.queue.jobIds(['active']),
    ]);
    return {
      waiting: waiting.map(taskIdOfJob),
      delayed: delayed.map(taskIdOfJob),
      active: active.map(taskIdOfJob),
    };
  }
}
