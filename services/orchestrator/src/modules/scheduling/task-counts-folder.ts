import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ProjectTaskCounts } from '@hangar/db';
import { Periodic } from '@hangar/platform';

// Every statement that changes a project's active tasks adds a row to project_task_counts, and
// every count read sums them (ProjectTaskCounts): folded every second, a project's counts are
// one row plus what changed since, however many of its tasks wait.
const FOLD_INTERVAL_MS = 1000;

@Injectable()
export class TaskCountsFolder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(counts: ProjectTaskCounts) {
    this.periodic = new Periodic('fold task counts', FOLD_INTERVAL_MS, async () => {
      await counts.fold();
    });
  }

  onApplicationBootstrap() {
    this.periodic.start();
  }

  async onApplicationShutdown() {
    await this.periodic.stop();
  }
}
