import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import {
  HangarError,
  Patterns,
  TaskCancelReplySchema,
  type CreateTaskRequest,
  type ErrorCode,
  type Task,
  type TaskCreatedMessage,
  type TaskDiff,
  type TaskPage,
  type ListTasksQuery,
  type TaskEvent,
} from '@hangar/contracts';
import { TaskDiffRepository, TaskEventRepository, TaskRepository } from '@hangar/db';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { ORCHESTRATOR_CLIENT } from './orchestrator-client';
import { RepositoryPolicy } from './repository-policy';
import { ScenarioCatalog } from './scenario-catalog';

@Injectable()
export class TasksService {
  private readonly logger = new Logger(TasksService.name);

  constructor(
    private readonly tasks: TaskRepository,
    private readonly history: TaskEventRepository,
    private readonly scenarios: ScenarioCatalog,
    private readonly repositories: RepositoryPolicy,
    private readonly diffs: TaskDiffRepository,
    @Inject(ORCHESTRATOR_CLIENT) private readonly orchestrator: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  // Every door that starts a task (REST, a conversation turn) comes through here.
  async create(
    input: CreateTaskRequest,
    options: { conversationId?: string; onRecorded?: (task: Task) => Promise<void> } = {},
  ): Promise<Task> {
    if (input.scenario !== undefined) await this.scenarios.assertAvailable(input.scenario);
    else await this.scenarios.assertPromptMarker(input.prompt);
    this.repositories.check(input);
    const task = await this.tasks.create({
      ...input,
      ...(options.conversationId !== undefined ? { conversationId: options.conversationId } : {}),
    });
    await options.onRecorded?.(task);
    // Best effort: a lost message only delays the task until the orchestrator's reconciler
    // finds it QUEUED, so the request does not wait for (or fail on) the transport.
    const message: TaskCreatedMessage = { taskId: task.id };
    lastValueFrom(
      this.orchestrator.emit(Patterns.taskCreated, message).pipe(timeout(this.config.GATEWAY_RPC_TIMEOUT_MS)),
    ).catch((error: unknown) =>
      this.logger.warn(
        `tasks.created for ${task.id} not sent (${String(error)}); the reconciler will pick it up`,
      ),
    );
    return task;
  }

  list(query: ListTasksQuery): Promise<TaskPage> {
    return this.tasks.list(query);
  }

  get(id: string): Promise<Task> {
    return this.tasks.get(id);
  }

  async events(id: string, afterSeq: number, limit: number): Promise<TaskEvent[]> {
    await this.tasks.get(id);
    return this.history.listAfter(id, afterSeq, limit);
  }

  async diff(id: string): Promise<TaskDiff> {
    const diff = await this.diffs.get(id);
    if (!diff) {
      throw new HangarError(
        'DIFF_NOT_FOUND',
        `task ${id} has no diff: it did not work on a repository, or it has not finished`,
      );
    }
    return diff;
  }

  async cancel(id: string): Promise<Task> {
    await this.tasks.get(id);
    let reply: unknown;
    try {
      reply = await lastValueFrom(
        this.orchestrator
          .send(Patterns.taskCancel, { taskId: id })
          .pipe(timeout(this.config.GATEWAY_RPC_TIMEOUT_MS)),
      );
    } catch (error) {
      throw new HangarError(
        'ORCHESTRATOR_UNAVAILABLE',
        `the orchestrator did not answer the cancel request (${String(error)}); try again`,
      );
    }
    const parsed = TaskCancelReplySchema.parse(reply);
    if (!parsed.ok) throw new HangarError(parsed.code as ErrorCode, parsed.message);
    return this.tasks.get(id);
  }
}
