import { Injectable } from '@nestjs/common';
import { DEFAULT_POOL, taskIdOfJob, type TaskQueueTarget } from '@hangar/contracts';
import { Queues, RunnerRegistry, taskQueueSpec } from '@hangar/redis';

export interface QueuedTaskIds {
  waiting: string[];
  delayed: string[];
  active: string[];
}

// Reads the orchestrator's task queues without adding to them: which tasks their jobs are for,
// by state, over every known pool's queue (and the default pool's) and every process runner's
// own. Jobs carry a priority, so waiting ones sit in `prioritized`.
@Injectable()
export class TaskQueueJobs {
  constructor(
    private readonly queues: Queues,
    private readonly registry: RunnerRegistry,
  ) {}

  async taskIds(): Promise<QueuedTaskIds> {
    const records = await this.registry.all();
    const targets: TaskQueueTarget[] = [
      ...new Set([DEFAULT_POOL, ...records.map((record) => record.pool)]),
    ].map((pool) => ({ pool }));
    for (const record of records) if (record.executor === 'process') targets.push({ runner: record.id });
    const ids: QueuedTaskIds = { waiting: [], delayed: [], active: [] };
    for (const target of targets) {
      const queue = this.queues.producer(taskQueueSpec(target));
      const [waiting, delayed, active] = await Promise.all([
        queue.jobIds(['wait', 'prioritized']),
        queue.jobIds(['delayed']),
        queue.jobIds(['active']),
      ]);
      ids.waiting.push(...waiting.map(taskIdOfJob));
      ids.delayed.push(...delayed.map(taskIdOfJob));
      ids.active.push(...active.map(taskIdOfJob));
    }
    return ids;
  }
}
