import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { RunnersOverview } from '@hangar/contracts';
import { TaskRepository } from '@hangar/db';
import { poolsOf, poolView } from '@hangar/platform';
import { RunnerRegistry } from '@hangar/redis';
import { TaskQueueJobs } from './task-queue-jobs';

@Injectable()
export class RunnersService {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly queue: TaskQueueJobs,
    private readonly registry: RunnerRegistry,
  ) {}

  // The queues are shared by every project: only jobs for tasks the caller can see are counted.
  // Pools are the installation's: what they offer and their load, for every member.
  async overview(principal: Principal, project: string | undefined): Promise<RunnersOverview> {
    const projectIds = principal.visibleIds(project);
    const [jobs, tasks, runners, records] = await Promise.all([
      this.queue.taskIds(),
      this.tasks.activeCountsIn(projectIds),
      this.tasks.runnersIn(projectIds),
      this.registry.all(),
    ]);
    const visible = new Set(
      await this.tasks.idsWithin(
        [...new Set([...jobs.waiting, ...jobs.delayed, ...jobs.active])],
        projectIds,
      ),
    );
    const count = (ids: string[]) => ids.filter((id) => visible.has(id)).length;
    return {
      queue: { waiting: count(jobs.waiting), delayed: count(jobs.delayed), active: count(jobs.active) },
      tasks,
      runners,
      pools: poolsOf(records).map((pool) => poolView(pool, Date.now())),
    };
  }
}
