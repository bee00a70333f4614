import { Injectable, Logger } from '@nestjs/common';
import type { Message, Task } from '@hangar/contracts';
import { TaskRepository } from '@hangar/db';
import { TopicStreams } from '@hangar/redis';

// What project and conversation subscribers see: every task status change (with the project's
// counts after it) and every conversation message, appended to those topics' streams by
// whichever service made the change. The task's own stream is written by its TaskEventLog.
@Injectable()
export class TaskActivity {
  private readonly logger = new Logger(TaskActivity.name);

  constructor(
    private readonly topics: TopicStreams,
    private readonly tasks: TaskRepository,
  ) {}

  // `counts`: the project's active tasks after the change, when its statement counted them.
  async statusChanged(
    task: Task,
    reason?: string,
    counted?: { queued: number; running: number },
  ): Promise<void> {
    await this.bestEffort(`status of task ${task.id}`, async () => {
      const data = { taskId: task.id, status: task.status, ...(reason ? { reason } : {}) };
      const counts = counted ?? (await this.tasks.activeCounts(task.project));
      await this.topics.append(`project:${task.project}`, [
        { type: 'task.status', data: { ...data, counts } },
      ]);
      if (task.conversationId) {
        await this.topics.append(`conversation:${task.conversationId}`, [{ type: 'turn.status', data }]);
      }
    });
  }

  // New tasks told together: one append per project, with its counts after them (`counts`, by
  // project: their creation's statement counted them). The first append is sent before this
  // returns its promise (the workflow engine queues the tasks meanwhile, relying on it).
  async statusesChanged(
    tasks: readonly Task[],
    counts: ReadonlyMap<string, { queued: number; running: number }>,
  ): Promise<void> {
    const byProject = new Map<string, Task[]>();
    for (const task of tasks) byProject.set(task.project, [...(byProject.get(task.project) ?? []), task]);
    for (const [project, changed] of byProject)
      await this.bestEffort(`status of ${changed.length} task(s)`, async () => {
        const active = counts.get(project) ?? (await this.tasks.activeCounts(project));
        await this.topics.append(
          `project:${project}`,
          changed.map((task) => ({
            type: 'task.status',
            data: { taskId: task.id, status: task.status, counts: active },
          })),
        );
        for (const task of changed)
          if (task.conversationId)
            await this.topics.append(`conversation:${task.conversationId}`, [
              { type: 'turn.status', data: { taskId: task.id, status: task.status } },
            ]);
      });
  }

  async messageAdded(message: Message): Promise<void> {
    await this.bestEffort(`message ${message.id}`, () =>
      this.topics.append(`conversation:${message.conversationId}`, [
        { type: 'message.created', data: message },
      ]),
    );
  }

  // The change itself is stored already (Postgres holds the truth, REST shows it): a Redis
  // hiccup costs live watchers an update, never the change.
  private async bestEffort(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.warn(
        `activity for ${what} not published: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
