import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import type { Principal } from '@hangar/auth';
import {
  HangarError,
  nestTaskTree,
  Patterns,
  TaskCancelReplySchema,
  TERMINAL_STATUSES,
  type CreateTaskRequest,
  type ErrorCode,
  type Task,
  type TaskCreatedMessage,
  type TaskDiff,
  type TaskPage,
  type ListTasksQuery,
  type ListTaskEventsQuery,
  type TaskEventPage,
  type TaskTreeNode,
  type ModelUsage,
  type TaskCancelMessage,
  type TraceContext,
} from '@hangar/contracts';
import {
  DEFAULT_PROFILE,
  ModelCallRepository,
  newTaskId,
  TaskDiffRepository,
  TaskEventRepository,
  TaskRepository,
  type Submitter,
} from '@hangar/db';
import { activeTraceContext, activeTraceField } from '@hangar/observability';
import { TaskLifecycle } from '@hangar/platform';
import { AuditTrail } from '../../common/audit-trail';
import { RoutingPolicy } from '../runners/routing-policy';
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
    private readonly modelCalls: ModelCallRepository,
    private readonly audit: AuditTrail,
    private readonly lifecycle: TaskLifecycle,
    private readonly routing: RoutingPolicy,
    @Inject(ORCHESTRATOR_CLIENT) private readonly orchestrator: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  // Every door that starts a task (REST, a conversation turn, a webhook) comes through here,
  // once it has decided the task may start in `projectId`.
  async create(
    input: CreateTaskRequest,
    options: {
      projectId: string;
      conversationId?: string;
      retryOf?: string;
      // Who starts it (none: a webhook).
      submitter?: Submitter;
      onRecorded?: (task: Task) => Promise<void>;
      // The request's audit entry is its creation (POST /api/v1/tasks): written by the same
      // statement, one commit for both.
      auditedByCreation?: boolean;
    },
  ): Promise<Task> {
    await this.checkCreation(input, options.projectId);
    const id = newTaskId();
    // The request's trace (its HTTP span's): kept with the task and sent on to the orchestrator,
    // so everything that works on the task joins it (docs/observability.md#one-trace-per-request).
    const trace = activeTraceContext();
    const audit = options.auditedByCreation
      ? this.audit.withChange({ projectId: options.projectId, target: { type: 'task', id } })
      : undefined;
    const { task, told } = await this.lifecycle.record(
      {
        ...input,
        id,
        ...(audit ? { audit } : {}),
        projectId: options.projectId,
        ...(options.conversationId !== undefined ? { conversationId: options.conversationId } : {}),
        ...(options.retryOf !== undefined ? { retryOf: options.retryOf } : {}),
        ...(options.submitter !== undefined ? { submitter: options.submitter } : {}),
        ...(trace ? { trace } : {}),
      },
      async (recorded) => {
        this.audit.touched({ projectId: options.projectId, target: { type: 'task', id: recorded.id } });
        await options.onRecorded?.(recorded);
      },
    );
    // Answered once the task is committed; the orchestrator hears of it once its QUEUED is told.
    void told.then(() => this.created(task, options.projectId, trace));
    return task;
  }

  // What any new task must pass, whoever starts it (a person, a webhook, a delegating agent).
  async checkCreation(
    input: Pick<
      CreateTaskRequest,
      'prompt' | 'scenario' | 'repository' | 'ref' | 'push' | 'profile' | 'requires'
    >,
    projectId: string,
  ): Promise<void> {
    if (input.scenario !== undefined) await this.scenarios.assertAvailable(input.scenario);
    else await this.scenarios.assertPromptMarker(input.prompt);
    await this.repositories.check(projectId, input);
    await this.routing.check(projectId, [
      { profile: input.profile ?? DEFAULT_PROFILE, requires: input.requires ?? [], field: 'requires' },
    ]);
  }

  // Tells the orchestrator of a task just recorded in `projectId` (the task's view names its
  // project by slug), in the trace it was created in.
  created(task: Task, projectId: string, trace: TraceContext | undefined = activeTraceContext()): void {
    // Best effort: a lost message only delays the task until the orchestrator's reconciler
    // finds it QUEUED, so the request does not wait for (or fail on) the transport.
    const message: TaskCreatedMessage = { taskId: task.id, projectId, ...(trace ? { trace } : {}) };
    lastValueFrom(
      this.orchestrator.emit(Patterns.taskCreated, message).pipe(timeout(this.config.GATEWAY_RPC_TIMEOUT_MS)),
    ).catch((error: unknown) =>
      this.logger.warn(
        `tasks.created for ${task.id} not sent (${String(error)}); the reconciler will pick it up`,
      ),
    );
  }

  // POST /api/v1/tasks: operators and admins of the project.
  async start(principal: Principal, project: string | undefined, input: CreateTaskRequest): Promise<Task> {
    const access = principal.require(principal.project(project).id, 'operator');
    return this.create(input, {
      projectId: access.id,
      submitter: principal.submitter,
      auditedByCreation: true,
    });
  }

  list(principal: Principal, query: ListTasksQuery): Promise<TaskPage> {
    return this.tasks.list(query, principal.visibleIds(query.project));
  }

  async get(principal: Principal, id: string): Promise<Task> {
    const { projectId: _projectId, ...task } = await this.tasks.getVisible(id, principal.projectIds);
    return task;
  }

  // The whole delegation tree the task is part of, from its root (docs/delegation.md). A tree
  // lives in one project: children are started in their parent's.
  async tree(principal: Principal, id: string): Promise<TaskTreeNode> {
    const task = await this.tasks.getVisible(id, principal.projectIds);
    const tree = nestTaskTree(task.rootTaskId, await this.tasks.tree(task.rootTaskId));
    if (!tree) throw new HangarError('TASK_NOT_FOUND', `the root ${task.rootTaskId} of task ${id} is gone`);
    return tree;
  }

  async events(principal: Principal, id: string, query: ListTaskEventsQuery): Promise<TaskEventPage> {
    await this.tasks.getVisible(id, principal.projectIds);
    return this.history.page(id, query.afterSeq, query);
  }

  async diff(principal: Principal, id: string): Promise<TaskDiff> {
    await this.tasks.getVisible(id, principal.projectIds);
    const diff = await this.diffs.get(id);
    if (!diff) {
      throw new HangarError(
        'DIFF_NOT_FOUND',
        `task ${id} has no diff: it did not work on a repository, or it has not finished`,
      );
    }
    return diff;
  }

  async usage(principal: Principal, id: string): Promise<ModelUsage> {
    await this.tasks.getVisible(id, principal.projectIds);
    return this.modelCalls.usageOfTask(id);
  }

  // A new task with the same prompt, profile, repository, limits and check as a finished one.
  async retry(principal: Principal, id: string): Promise<Task> {
    const original = await this.tasks.getVisible(id, principal.projectIds);
    principal.require(original.projectId, 'operator');
    if (!TERMINAL_STATUSES.includes(original.status)) {
      throw new HangarError(
        'INVALID_TRANSITION',
        `task ${id} is ${original.status}: only finished tasks are retried`,
      );
    }
    if (original.conversationId) {
      throw new HangarError(
        'INVALID_TRANSITION',
        `task ${id} is a turn of conversation ${original.conversationId}: post the message again instead`,
      );
    }
    return this.create(
      {
        prompt: original.prompt,
        profile: original.profile,
        priority: original.priority,
        timeoutSeconds: original.timeoutSeconds,
        ...(original.scenario ? { scenario: original.scenario } : {}),
        ...(original.repository ? { repository: original.repository, push: original.push } : {}),
        ...(original.ref ? { ref: original.ref } : {}),
        ...(original.check ? { check: original.check } : {}),
      },
      { projectId: original.projectId, retryOf: original.id, submitter: principal.submitter },
    );
  }

  async cancel(principal: Principal, id: string): Promise<Task> {
    const task = await this.tasks.getVisible(id, principal.projectIds);
    principal.require(task.projectId, 'operator');
    this.audit.touched({ projectId: task.projectId, target: { type: 'task', id } });
    let reply: unknown;
    const message: TaskCancelMessage = { taskId: id, ...activeTraceField() };
    try {
      reply = await lastValueFrom(
        this.orchestrator
          .send(Patterns.taskCancel, message)
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
    return this.get(principal, id);
  }
}
